package config

import (
	"fmt"
	"strings"
)

// Help is the flag help of o: its usage, the variables that also set it and
// a default computed elsewhere. pflag adds a non-empty Default itself.
func Help(o *Option) string {
	var env string
	switch {
	case o.FileFlag != "":
		env = fmt.Sprintf("env %s, or the value itself in %s", o.FileEnv(), o.Env)
	case o.Secret:
		env = fmt.Sprintf("env %s, or a file named by %s", o.Env, o.FileEnv())
	default:
		env = "env " + o.Env
	}
	if o.DefaultDoc != "" {
		env += "; default " + o.DefaultDoc
	}
	return o.Usage + " (" + env + ")"
}

// MarkdownTable is a Markdown table of opts, one row each: flag,
// environment variables, default and meaning. READMEs hold it verbatim so
// that a test can compare them with the table.
func MarkdownTable(opts []Option) string {
	var b strings.Builder
	b.WriteString("| flag | environment | default | meaning |\n|---|---|---|---|\n")
	for i := range opts {
		o := &opts[i]
		flag := ""
		switch f := o.Flag(); {
		case f != "" && o.FileFlag != "":
			flag = "`--" + f + " FILE`"
		case f != "":
			flag = "`--" + f + "`"
		}
		env := "`" + o.Env + "`"
		if o.Secret {
			env += ", `" + o.FileEnv() + "`"
		}
		def := o.DefaultDoc
		if o.Default != "" {
			def = "`" + o.Default + "`"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", flag, env, def, o.Usage)
	}
	return b.String()
}
