package main

import (
	"reflect"
	"strings"

	"github.com/urfave/cli/v2"
)

// envPrefix starts the environment variable that can give each flag, so a
// Kubernetes ConfigMap can set any flag: --metrics-addr is PSTRACE_METRICS_ADDR.
// A flag on the command line wins over its variable.
const envPrefix = "PSTRACE_"

// flagEnv is the variable for flag name.
func flagEnv(name string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// setFlagEnvs gives every flag of the app and its commands its variable.
// Every urfave/cli flag type has an EnvVars field; reflection reaches them
// all, so flags added later get theirs too.
func setFlagEnvs(app *cli.App) {
	set := func(flags []cli.Flag) {
		for _, f := range flags {
			v := reflect.ValueOf(f)
			if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
				continue
			}
			field := v.Elem().FieldByName("EnvVars")
			if field.IsValid() && field.CanSet() && field.Type() == reflect.TypeOf([]string(nil)) {
				field.Set(reflect.ValueOf([]string{flagEnv(f.Names()[0])}))
			}
		}
	}
	set(app.Flags)
	var walk func([]*cli.Command)
	walk = func(cmds []*cli.Command) {
		for _, c := range cmds {
			set(c.Flags)
			walk(c.Subcommands)
		}
	}
	walk(app.Commands)
}
