package config

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/pflag"
)

// Source is where an option's effective value came from.
type Source int

// The sources, in the order they are tried after the flag.
const (
	FromDefault Source = iota // the row's default
	FromFlag                  // the command line
	FromEnv                   // the environment variable
	FromFile                  // a file named by a file flag or a *_FILE variable
)

func (s Source) String() string {
	return [...]string{"default", "flag", "env", "file"}[s]
}

// Value is one option's effective value.
type Value struct {
	// Option is the row.
	Option *Option
	// Text is what was parsed. A secret's text must not leave the program:
	// print Shown instead.
	Text string
	// Source is where Text came from.
	Source Source
	// Origin is the flag ("--db") or variable that gave it, "" for the
	// default.
	Origin string
	// Path is the file read (or, with SetPath, handed over) for FromFile.
	Path string
}

// Error is an option's text that the program cannot use: a usage error.
// A file that cannot be read is a plain error instead, since the command
// line itself may well be right.
type Error struct {
	// Where names the option and, if not its flag, where the text came
	// from: "--jwt-alg (KEYHUB_JWT_ALG)"; empty when Err names them.
	Where string
	Err   error
}

func (e *Error) Error() string {
	if e.Where == "" {
		return e.Err.Error()
	}
	return e.Where + ": " + e.Err.Error()
}
func (e *Error) Unwrap() error { return e.Err }

// Set is a command's option table, bound to its flags once registered.
type Set struct {
	opts  []Option
	flags *pflag.FlagSet
	// raw holds each option's flag text, indexed like opts.
	raw    []string
	values []Value
}

// New returns the set of opts. It panics if two rows share a name, flag
// or variable, or a row lacks what it needs.
func New(opts ...Option) *Set {
	check(opts)
	return &Set{opts: opts, raw: make([]string, len(opts))}
}

// Options returns the rows, in table order.
func (s *Set) Options() []Option { return s.opts }

// Register adds the options' flags to fs, with help naming their
// variables and defaults.
func (s *Set) Register(fs *pflag.FlagSet) {
	s.flags = fs
	for i := range s.opts {
		o := &s.opts[i]
		switch {
		case o.EnvOnly:
		case o.FileFlag != "":
			fs.Var(fileFlag{&s.raw[i]}, o.FileFlag, Help(o))
		default:
			fs.StringVar(&s.raw[i], o.Name, o.Default, Help(o))
			if o.Bool {
				fs.Lookup(o.Name).NoOptDefVal = "true"
			}
		}
	}
}

// Resolve finds every option's text, in order: its flag if given on the
// command line, its variable, its *_FILE variable, its default; and sets
// it. getenv reads the environment; an empty variable counts as unset.
// It stops at the first error.
func (s *Set) Resolve(getenv func(string) string) error {
	s.values = make([]Value, len(s.opts))
	for i := range s.opts {
		o := &s.opts[i]
		v, err := s.find(i, getenv)
		if err != nil {
			return err
		}
		s.values[i] = v
		set, text := o.Set, v.Text
		if v.Source == FromFile && o.SetPath != nil {
			set, text = o.SetPath, v.Path
		}
		if err := set(text); err != nil {
			where := o.label()
			if v.Origin != "" && v.Origin != where {
				where += " (" + v.Origin + ")"
			}
			return &Error{Where: where, Err: err}
		}
	}
	return nil
}

// find returns option i's text and where it came from.
func (s *Set) find(i int, getenv func(string) string) (Value, error) {
	o := &s.opts[i]
	env := getenv(o.Env)
	fileEnv := ""
	if o.Secret {
		fileEnv = getenv(o.FileEnv())
	}
	// Checked even when the flag is given: two variables saying different
	// things are a mistake wherever the value finally comes from.
	if env != "" && fileEnv != "" {
		return Value{}, &Error{Err: fmt.Errorf("both %s and %s are set: set only one", o.Env, o.FileEnv())}
	}
	v := Value{Option: o, Source: FromDefault, Text: o.Default}
	flag := o.Flag()
	switch {
	case flag != "" && s.flags != nil && s.flags.Changed(flag) && o.FileFlag != "":
		v.Source, v.Origin, v.Path = FromFile, "--"+flag, s.raw[i]
	case flag != "" && s.flags != nil && s.flags.Changed(flag):
		v.Source, v.Origin, v.Text = FromFlag, "--"+flag, s.raw[i]
	case env != "":
		v.Source, v.Origin, v.Text = FromEnv, o.Env, env
	case fileEnv != "":
		v.Source, v.Origin, v.Path = FromFile, o.FileEnv(), fileEnv
	}
	if v.Source != FromFile || o.SetPath != nil {
		return v, nil
	}
	b, err := os.ReadFile(v.Path)
	if err != nil {
		return Value{}, fmt.Errorf("%s: %w", v.Origin, err)
	}
	// Files written by editors and `echo` end in a newline that is no part
	// of the secret; anything else is kept as written.
	text := strings.TrimSuffix(string(b), "\n")
	v.Text = strings.TrimSuffix(text, "\r")
	return v, nil
}

// Values returns every option's effective value, in table order, after
// Resolve.
func (s *Set) Values() []Value { return s.values }

// fileFlag is a flag naming a file; its type shows as FILE in --help.
type fileFlag struct{ p *string }

func (f fileFlag) String() string {
	if f.p == nil {
		return ""
	}
	return *f.p
}
func (f fileFlag) Set(s string) error { *f.p = s; return nil }
func (f fileFlag) Type() string       { return "FILE" }
