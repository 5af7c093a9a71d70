// Package config reads a command's options from one table: each row names
// a flag, its environment variable, its default, its help and how its text
// becomes a setting. From the table come the flags, the environment (a flag
// given on the command line wins), a *_FILE variable for every secret, the
// help and README texts, and a dump of the effective configuration that
// never shows a secret. Adding an option is adding a row.
package config

import (
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
)

// Option is one row of a command's option table.
type Option struct {
	// Name is the option's flag (without dashes) and its key in the dump.
	Name string
	// Env is the environment variable read when the flag is not given.
	Env string
	// Default is the text used when neither flag nor variable is given.
	Default string
	// DefaultDoc describes a default that is computed elsewhere, such as
	// "http://ADDR", for help and README; Default is then usually empty.
	DefaultDoc string
	// Usage is the flag's help, without the variables and default, which
	// are added from the row. It is plain text: pflag would take a word in
	// backquotes for the flag's argument.
	Usage string
	// Secret options are never shown in the dump and can also be read from
	// the file named by the variable Env+"_FILE" (containers mount secrets
	// as files). Setting both variables is an error.
	Secret bool
	// FileFlag, when set, replaces the flag --Name with --FileFlag, which
	// names a file holding the value: a secret written on a command line is
	// visible to every user of the machine. It needs Secret.
	FileFlag string
	// EnvOnly options have no flag at all.
	EnvOnly bool
	// Bool options are switches: the flag given alone means "true"
	// (--portal), and --portal=false turns it off.
	Bool bool
	// Show renders a secret's text for the dump, such as a URL without its
	// password, instead of "[set]"; it must leave out every secret part.
	Show func(string) string
	// Set parses the effective text into its destination. An error is
	// reported naming the option and where the text came from.
	Set func(string) error
	// SetPath, when set, receives the path of a file source instead of
	// the file's content, for a file the program reads or creates itself
	// (keyhub's master key is created on first start).
	SetPath func(string) error
}

// FileEnv is the variable naming a file that holds a secret option's
// value, or "" for an option that is not secret.
func (o *Option) FileEnv() string {
	if !o.Secret {
		return ""
	}
	return o.Env + "_FILE"
}

// Flag is the option's flag name without dashes, or "" if it has none.
func (o *Option) Flag() string {
	switch {
	case o.EnvOnly:
		return ""
	case o.FileFlag != "":
		return o.FileFlag
	}
	return o.Name
}

// label names the option in errors: its flag, or its variable when it has
// no flag.
func (o *Option) label() string {
	if f := o.Flag(); f != "" {
		return "--" + f
	}
	return o.Env
}

// String returns a Set func that stores the text in *dst as it is.
func String(dst *string) func(string) error {
	return func(s string) error { *dst = s; return nil }
}

// Bool returns a Set func that stores a boolean: true, false, 1, 0 and
// the other spellings strconv.ParseBool takes.
func Bool(dst *bool) func(string) error {
	return func(s string) error {
		v, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("%q is not true or false", s)
		}
		*dst = v
		return nil
	}
}

// Parse returns a Set func that stores parse(text) in *dst, so that a row
// is typed by its destination.
func Parse[T any](dst *T, parse func(string) (T, error)) func(string) error {
	return func(s string) error {
		v, err := parse(s)
		if err != nil {
			return err
		}
		*dst = v
		return nil
	}
}

// check panics on a table that cannot work: these are mistakes in the
// program, found by the first test that builds the table.
func check(opts []Option) {
	names := map[string]bool{}
	claim := func(kind, n string) {
		if n == "" {
			return
		}
		if names[kind+n] {
			panic(fmt.Sprintf("config: %s %q used twice", kind, n))
		}
		names[kind+n] = true
	}
	for i := range opts {
		o := &opts[i]
		switch {
		case o.Name == "" || o.Env == "":
			panic(fmt.Sprintf("config: option %d needs Name and Env", i))
		case o.Set == nil:
			panic(fmt.Sprintf("config: option %s needs Set", o.Name))
		case (o.FileFlag != "" || o.Show != nil || o.SetPath != nil) && !o.Secret:
			panic(fmt.Sprintf("config: option %s: FileFlag, Show and SetPath are for secrets", o.Name))
		case o.FileFlag != "" && o.EnvOnly:
			panic(fmt.Sprintf("config: option %s: FileFlag and EnvOnly exclude each other", o.Name))
		case slices.Contains([]string{slog.TimeKey, slog.LevelKey, slog.MessageKey, slog.SourceKey}, o.Name):
			panic(fmt.Sprintf("config: option %s: the name is a key of every log line, where the dump goes", o.Name))
		case strings.ContainsAny(o.DefaultDoc+o.Usage, "`|"):
			panic(fmt.Sprintf("config: option %s: Usage and DefaultDoc are shown in --help and a table, keep them plain", o.Name))
		}
		claim("name ", o.Name)
		claim("flag ", o.Flag())
		claim("variable ", o.Env)
		claim("variable ", o.FileEnv())
	}
}
