package main

import (
	"flag"
	"io"

	"github.com/cwmpd/cwmpd/cwmp/datamodel"
)

func cmdParamsDoc(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("params doc", flag.ContinueOnError)
	format := fs.String("format", "md", "md or html")
	if _, err := parseInterspersed(fs, args); err != nil {
		return err
	}
	if *format != "md" && *format != "html" {
		return usagef("params doc: --format takes md or html, not %q", *format)
	}
	return datamodel.DefaultSchema().WriteReference(stdout, *format)
}
