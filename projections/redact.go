package projections

import "github.com/cwmpd/cwmpd/projections/event"

// Redacted returns a deep copy of the state with every secret replaced, for
// anything that leaves the device or reaches a terminal: replay output,
// print, exports. The live state keeps the secrets the agent needs.
func (s *State) Redacted() *State {
	b, err := s.Snapshot()
	if err != nil {
		return New()
	}
	c, err := Restore(b)
	if err != nil {
		return New()
	}
	for name, v := range c.Settings {
		if event.IsSecretSetting(name) && v != "" {
			c.Settings[name] = event.Redacted
		}
	}
	for name, v := range c.Params.Values {
		if v.Hidden && v.Value != "" {
			v.Value = event.Redacted
			c.Params.Values[name] = v
		}
	}
	if a := c.Params.Applying; a != nil {
		for i, v := range a.Change.Values {
			if v.Hidden && v.Value != "" {
				a.Change.Values[i].Value = event.Redacted
			}
		}
	}
	for name, v := range c.Pending.Changed {
		if v.Hidden && v.Value != "" {
			v.Value = event.Redacted
			c.Pending.Changed[name] = v
		}
	}
	for _, tr := range c.Transfers.ByID {
		if tr.Request.Password != "" {
			tr.Request.Password = event.Redacted
		}
		tr.Request.URL = event.RedactURL(tr.Request.URL)
		for i, f := range tr.Files {
			f.URL = event.RedactURL(f.URL)
			tr.Files[i] = f
		}
	}
	return c
}
