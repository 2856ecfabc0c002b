package main

import (
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
	return m, nil
}
