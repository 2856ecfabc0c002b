package acsim

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// Scenario is the JSON file loaded at start-up (see doc.go).
type Scenario struct {
	// RPCs are queued in order; each names its device ("" = default queue).
	RPCs []RPC `json:"rpcs,omitempty"`
	// Faults are queued fault plans, one per session attempt.
	Faults []FaultPlan `json:"faults,omitempty"`
	// Files are registered in memory under their name.
	Files map[string]ScenarioFile `json:"files,omitempty"`
	// FileFaults break serving the named files.
	FileFaults map[string]FileFault `json:"fileFaults,omitempty"`
}

// ScenarioFile is a file's content: exactly one of Text, Base64 or Path.
type ScenarioFile struct {
	Text   string `json:"text,omitempty"`
	Base64 string `json:"base64,omitempty"`
	Path   string `json:"path,omitempty"`
}

// LoadScenario reads and checks a scenario file.
func LoadScenario(path string) (*Scenario, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("acsim: scenario: %w", err)
	}
	defer f.Close()
	sc, err := ReadScenario(f)
	if err != nil {
		return nil, fmt.Errorf("acsim: scenario %s: %w", path, err)
	}
	return sc, nil
}

// ReadScenario decodes a scenario; unknown fields are errors, so a typo
// does not silently drop an RPC.
func ReadScenario(r io.Reader) (*Scenario, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var sc Scenario
	if err := dec.Decode(&sc); err != nil {
		return nil, fmt.Errorf("acsim: scenario: %w", err)
	}
	for i, r := range sc.RPCs {
		if _, err := ParseRPC(r); err != nil {
			return nil, fmt.Errorf("acsim: scenario rpcs[%d]: %w", i, err)
		}
	}
	return &sc, nil
}

// ApplyScenario queues the scenario's RPCs and fault plans and registers
// its files. Nothing is applied when any part is invalid.
func (s *Server) ApplyScenario(sc *Scenario) error {
	msgs := make([]RPC, len(sc.RPCs))
	copy(msgs, sc.RPCs)
	files := map[string][]byte{}
	for name, f := range sc.Files {
		data, err := f.content()
		if err != nil {
			return fmt.Errorf("acsim: scenario file %q: %w", name, err)
		}
		files[name] = data
	}
	for i, r := range msgs {
		if _, err := ParseRPC(r); err != nil {
			return fmt.Errorf("acsim: scenario rpcs[%d]: %w", i, err)
		}
	}
	for name, data := range files {
		s.AddFile(name, data)
	}
	for name, f := range sc.FileFaults {
		s.SetFileFault(name, f)
	}
	s.PushFaults(sc.Faults...)
	for _, r := range msgs {
		if _, err := s.EnqueueRPC("", r); err != nil {
			return err // checked above; unreachable
		}
	}
	return nil
}

func (f ScenarioFile) content() ([]byte, error) {
	n := 0
	for _, set := range []bool{f.Text != "", f.Base64 != "", f.Path != ""} {
		if set {
			n++
		}
	}
	if n > 1 {
		return nil, fmt.Errorf("give only one of text, base64 and path")
	}
	switch {
	case f.Base64 != "":
		return base64.StdEncoding.DecodeString(f.Base64)
	case f.Path != "":
		return os.ReadFile(f.Path)
	}
	return bytes.Clone([]byte(f.Text)), nil
}
