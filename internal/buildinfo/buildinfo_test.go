package buildinfo

import (
	"runtime/debug"
	"testing"
	"time"
)

func TestFromBuildInfo(t *testing.T) {
	commit := time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)
	cases := []struct {
		name string
		bi   debug.BuildInfo
		want Info
	}{
		{"Tagged", debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.3"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.time", Value: "2026-11-20T09:30:00Z"}, {Key: "vcs.modified", Value: "false"}}},
			Info{Version: "v1.2.3", Commit: "0123456789abcdef0123", CommitTime: &commit, GoVersion: "go1.26.8"}},
		{"Modified", debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.0.0-20261120093000-0123456789ab+dirty"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789ab"}, {Key: "vcs.modified", Value: "true"}}},
			Info{Version: "v0.0.0-20261120093000-0123456789ab+dirty", Commit: "0123456789ab", Modified: true, GoVersion: "go1.26.8"}},
		// go build -buildvcs=false, as .ci/run builds: no vcs settings.
		{"NoVCS", debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}},
			Info{Version: "(devel)", GoVersion: "go1.26.8"}},
		{"NoVersion", debug.BuildInfo{GoVersion: "go1.26.8"}, Info{Version: "(devel)", GoVersion: "go1.26.8"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := fromBuildInfo(&c.bi)
			if got.Version != c.want.Version || got.Commit != c.want.Commit || got.Modified != c.want.Modified ||
				got.GoVersion != c.want.GoVersion || (got.CommitTime == nil) != (c.want.CommitTime == nil) ||
				got.CommitTime != nil && !got.CommitTime.Equal(*c.want.CommitTime) || got.Platform == "" {
				t.Errorf("got %+v, want %+v", got, c.want)
			}
		})
	}
}

func TestLinkTimeVersion(t *testing.T) {
	savedV, savedC := Version, Commit
	t.Cleanup(func() { Version, Commit = savedV, savedC })
	Version, Commit = "v9.9.9", "fedcba9876543210"
	if got := Read(); got.Version != "v9.9.9" || got.Commit != "fedcba9876543210" {
		t.Errorf("Read() = %+v with Version and Commit set", got)
	}
}

func TestShortCommit(t *testing.T) {
	if got := (Info{Commit: "0123456789abcdef"}).ShortCommit(); got != "0123456789ab" {
		t.Errorf("ShortCommit = %q", got)
	}
	if got := (Info{}).ShortCommit(); got != "" {
		t.Errorf("ShortCommit of no commit = %q", got)
	}
}
