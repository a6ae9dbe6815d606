package main

import (
	"reflect"
	"testing"

	"github.com/urfave/cli/v2"
)

func TestIntersperse(t *testing.T) {
	app := &cli.App{Commands: []*cli.Command{
		{Name: "dedup", Flags: []cli.Flag{
			&cli.BoolFlag{Name: "json"},
			&cli.StringFlag{Name: "store", Aliases: []string{"s"}},
		}},
		{Name: "models", Subcommands: []*cli.Command{
			{Name: "pull", Flags: []cli.Flag{&cli.BoolFlag{Name: "offline"}}},
		}},
	}}
	tests := []struct{ in, want []string }{
		{[]string{"es", "dedup", "./photos", "--json"}, []string{"es", "dedup", "--json", "./photos"}},
		{[]string{"es", "dedup", "a", "--store", "S", "b"}, []string{"es", "dedup", "--store", "S", "a", "b"}},
		{[]string{"es", "dedup", "a", "-s=S"}, []string{"es", "dedup", "-s=S", "a"}},
		{[]string{"es", "dedup", "-", "--json"}, []string{"es", "dedup", "--json", "-"}},
		{[]string{"es", "dedup", "a", "--", "--json"}, []string{"es", "dedup", "--", "a", "--json"}},
		{[]string{"es", "models", "pull", "clip", "--offline"}, []string{"es", "models", "pull", "--offline", "clip"}},
		{[]string{"es", "--help"}, []string{"es", "--help"}},
		{[]string{"es", "nosuch", "x", "--json"}, []string{"es", "nosuch", "x", "--json"}},
	}
	for _, tt := range tests {
		if got := intersperse(app, tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("intersperse(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
