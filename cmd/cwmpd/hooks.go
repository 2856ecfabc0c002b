package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/cwmpd/cwmpd/actions"
)

// hookKeys are the lines of a hooks file (--hooks), key=value, one action
// each; see dist/hooks.conf.example.
var hookKeys = map[string]func(h *actions.Hooks, v string) error{
	"manufacturer":     func(h *actions.Hooks, v string) error { h.Ident.Manufacturer = v; return nil },
	"oui":              setOUI,
	"model-name":       func(h *actions.Hooks, v string) error { h.Ident.ModelName = v; return nil },
	"description":      func(h *actions.Hooks, v string) error { h.Ident.Description = v; return nil },
	"product-class":    func(h *actions.Hooks, v string) error { h.Ident.ProductClass = v; return nil },
	"serial-number":    func(h *actions.Hooks, v string) error { h.Ident.SerialNumber = v; return nil },
	"hardware-version": func(h *actions.Hooks, v string) error { h.Ident.HardwareVersion = v; return nil },
	"software-version": func(h *actions.Hooks, v string) error { h.Ident.SoftwareVersion = v; return nil },
	"version-command":  func(h *actions.Hooks, v string) error { h.VersionCommand = v; return nil },
	"firmware":         func(h *actions.Hooks, v string) error { h.Firmware = v; return nil },
	"config-alter":     func(h *actions.Hooks, v string) error { h.ConfigAlter = v; return nil },
	"config-replace":   func(h *actions.Hooks, v string) error { h.ConfigReplace = v; return nil },
	"set-default":      func(h *actions.Hooks, v string) error { h.SetDefault = v; return nil },
	"export-config":    func(h *actions.Hooks, v string) error { h.ExportConfigCmd = v; return nil },
	"export-log":       func(h *actions.Hooks, v string) error { h.ExportLogCmd = v; return nil },
	"export-default":   func(h *actions.Hooks, v string) error { h.ExportDefaultCmd = v; return nil },
	"reboot":           func(h *actions.Hooks, v string) error { h.RebootCmd = v; return nil },
	"factory-reset":    func(h *actions.Hooks, v string) error { h.FactoryResetCmd = v; return nil },
	"boot-id-file":     func(h *actions.Hooks, v string) error { h.BootIDFile = v; return nil },
	"apply-parameters": func(h *actions.Hooks, v string) error { h.ApplyParametersCmd = v; return nil },
	"timeout":          func(h *actions.Hooks, v string) error { return duration(&h.Timeout, "timeout", "5m", v) },
	"apply-timeout":    func(h *actions.Hooks, v string) error { return duration(&h.ApplyTimeout, "apply-timeout", "30s", v) },
}

func duration(d *time.Duration, key, example, v string) error {
	n, err := time.ParseDuration(v)
	if err != nil || n <= 0 {
		return fmt.Errorf("%s takes a duration like %s", key, example)
	}
	*d = n
	return nil
}

func setOUI(h *actions.Hooks, v string) error {
	if len(v) != 6 || strings.ToUpper(v) != v || strings.Trim(v, "0123456789ABCDEF") != "" {
		return fmt.Errorf("oui takes six uppercase hex digits")
	}
	h.Ident.OUI = v
	return nil
}

// readHooks parses a hooks file. The identity is required: an ACS tells
// devices apart by OUI, product class and serial number.
func readHooks(path, state string) (*actions.Hooks, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read it")
	}
	h := &actions.Hooks{StateDir: state}
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		set, known := hookKeys[strings.TrimSpace(k)]
		if !ok || !known {
			return nil, fmt.Errorf("line %d: expected one of the hook keys as key=value", i+1)
		}
		if err := set(h, strings.TrimSpace(v)); err != nil {
			return nil, fmt.Errorf("line %d: %v", i+1, err)
		}
	}
	id := h.Ident
	if id.OUI == "" || id.ProductClass == "" || id.SerialNumber == "" || id.Manufacturer == "" {
		return nil, fmt.Errorf("manufacturer, oui, product-class and serial-number are required")
	}
	if h.RebootCmd == "" {
		return nil, fmt.Errorf("reboot is required (the command that restarts the device)")
	}
	return h, nil
}
