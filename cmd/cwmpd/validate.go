package main

import (
	"path/filepath"
	"strings"

	"github.com/cwmpd/cwmpd/cwmp/transport"
	"github.com/cwmpd/cwmpd/projections"
)

// parseAssignments is projections.ParseAssignments plus what only the
// daemon's own packages know: an acs-url must pass the transport's checks
// (transport.CheckURL, the ones every session applies and the data model
// applies to an ACS's SetParameterValues), so that a URL the sessions would
// refuse is refused when it is set, with exit status 2.
func parseAssignments(args []string) (map[string]string, error) {
	m, err := projections.ParseAssignments(args)
	if err != nil {
		return nil, err
	}
	if u := m[projections.SettingACSURL]; u != "" {
		if err := transport.CheckURL(u); err != nil {
			spec, _ := projections.SpecOf(projections.SettingACSURL)
			return nil, &projections.SettingError{Name: spec.Name, Accepts: spec.Accepts,
				Why: strings.TrimPrefix(err.Error(), "transport: ")}
		}
	}
	for _, name := range pathSettings {
		if v := m[name]; v != "" && !filepath.IsAbs(v) {
			spec, _ := projections.SpecOf(name)
			return nil, &projections.SettingError{Name: name, Accepts: spec.Accepts,
				Why: "a relative path (the daemon runs in another directory): give an absolute one"}
		}
	}
	return m, nil
}

// pathSettings hold file paths the daemon reads at every session.
var pathSettings = []string{projections.SettingClientCertificate, projections.SettingCACertificate}

// absolutePaths resolves the relative file paths among name=value arguments
// against dir (the CLI's working directory for set, the defaults file's
// directory for a defaults file): the journal keeps the absolute path, the
// one the daemon, in its own working directory, can read.
func absolutePaths(args []string, dir string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = a
		name, v, ok := strings.Cut(a, "=")
		name = strings.TrimSpace(name)
		if !ok || v == "" || filepath.IsAbs(v) {
			continue
		}
		for _, p := range pathSettings {
			if name == p {
				out[i] = name + "=" + filepath.Join(dir, v)
			}
		}
	}
	return out
}
