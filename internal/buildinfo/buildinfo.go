// Package buildinfo tells which keyhub this binary is: its module version
// and the VCS commit it was built from, as the Go toolchain records them.
// `keyhub version` prints it and the metrics export it.
package buildinfo

import (
	"runtime"
	"runtime/debug"
	"time"
)

// Version overrides the module version when set at link time:
//
//	go build -ldflags "-X github.com/keyhub/keyhub/internal/buildinfo.Version=v1.2.3" ./cmd/keyhub
//
// A binary built with `go install github.com/keyhub/keyhub/cmd/keyhub@v1.2.3`
// knows its version without it.
var Version string

// Commit overrides the VCS commit when set at link time, for builds from a
// tree without its .git, such as a container build (deploy/Dockerfile).
var Commit string

// Info describes the running binary.
type Info struct {
	// Version is the module version: a tag such as v1.2.3, a pseudo-version
	// for a build from a VCS checkout, or "(devel)" for a build that knows
	// neither.
	Version string `json:"version"`
	// Commit is the VCS revision, "" when the build recorded none (go build
	// -buildvcs=false, or a source tree without its .git).
	Commit string `json:"commit"`
	// CommitTime is the revision's commit time, nil when unknown.
	CommitTime *time.Time `json:"commit_time"`
	// Modified reports uncommitted changes in the tree built from.
	Modified bool `json:"modified"`
	// GoVersion is the toolchain that built the binary.
	GoVersion string `json:"go_version"`
	// Platform is GOOS/GOARCH.
	Platform string `json:"platform"`
}

// Read returns the binary's Info.
func Read() Info {
	info := Info{Version: "(devel)", GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	bi, ok := debug.ReadBuildInfo()
	if ok {
		info = fromBuildInfo(bi)
	}
	if Version != "" {
		info.Version = Version
	}
	if Commit != "" {
		info.Commit = Commit
	}
	return info
}

// fromBuildInfo reads what the toolchain recorded.
func fromBuildInfo(bi *debug.BuildInfo) Info {
	info := Info{Version: bi.Main.Version, GoVersion: bi.GoVersion, Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if info.Version == "" {
		info.Version = "(devel)"
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			info.Commit = s.Value
		case "vcs.time":
			if t, err := time.Parse(time.RFC3339, s.Value); err == nil {
				info.CommitTime = &t
			}
		case "vcs.modified":
			info.Modified = s.Value == "true"
		}
	}
	return info
}

// ShortCommit is the first 12 characters of the commit, "" when unknown.
func (i Info) ShortCommit() string {
	if len(i.Commit) > 12 {
		return i.Commit[:12]
	}
	return i.Commit
}
