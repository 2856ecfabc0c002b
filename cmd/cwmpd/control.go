package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/cwmpd/cwmpd/projections"
	"github.com/cwmpd/cwmpd/projections/event"
	"github.com/cwmpd/cwmpd/projections/live"
)

// The control socket: one JSON request per connection, one JSON answer.
// Mode 0600 in the state dir, and the peer's uid is checked as well, so
// only the daemon's user (or root) can read settings or change them.

const controlSocketName = "cwmpd.sock"

type controlRequest struct {
	Op     string   `json:"op"` // print, set, reset
	Assign []string `json:"assign,omitempty"`
}

type controlResponse struct {
	OK       bool               `json:"ok"`
	Error    string             `json:"error,omitempty"`
	Settings map[string]string  `json:"settings,omitempty"`
	Status   projections.Status `json:"status"`
	// Problem is what keeps the agent from working right now (storage
	// full); empty when all is well.
	Problem string `json:"problem,omitempty"`
	// Notice is what the operator should know about the change just made
	// (a setting that could not take effect at once).
	Notice string `json:"notice,omitempty"`
}

func controlPath(state string) string { return filepath.Join(state, controlSocketName) }

func (d *daemon) startControl(ctx context.Context) (func(), error) {
	path := controlPath(d.cfg.state)
	os.Remove(path) // a stale socket of a killed daemon; the journal lock proves no other runs
	old := syscall.Umask(0o177)
	l, err := net.Listen("unix", path)
	syscall.Umask(old)
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(path, 0o600); err != nil {
		l.Close()
		return nil, err
	}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go d.serveControl(ctx, c.(*net.UnixConn))
		}
	}()
	return func() { l.Close(); os.Remove(path) }, nil
}

func (d *daemon) serveControl(ctx context.Context, c *net.UnixConn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if !peerAllowed(c) {
		json.NewEncoder(c).Encode(controlResponse{Error: "permission denied"})
		d.log.Warn().Msg("control socket: connection from another user refused")
		return
	}
	var req controlRequest
	if err := json.NewDecoder(bufio.NewReader(c)).Decode(&req); err != nil {
		json.NewEncoder(c).Encode(controlResponse{Error: "bad request"})
		return
	}
	resp := d.control(ctx, req)
	json.NewEncoder(c).Encode(resp)
}

// peerAllowed: the peer runs as the daemon's user or as root.
func peerAllowed(c *net.UnixConn) bool {
	raw, err := c.SyscallConn()
	if err != nil {
		return false
	}
	var cred *syscall.Ucred
	var cerr error
	raw.Control(func(fd uintptr) {
		cred, cerr = syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
	})
	if cerr != nil || cred == nil {
		return false
	}
	return cred.Uid == 0 || int(cred.Uid) == os.Getuid()
}

func (d *daemon) control(ctx context.Context, req controlRequest) controlResponse {
	var notice string
	switch req.Op {
	case "print":
		d.recheckStorage() // space freed: say so now
		d.kickConductor()  // a full journal is retried at once
	case "set":
		d.kickConductor() // a full journal is retried at once
		if err := applySettings(ctx, d.store, req.Assign); err != nil {
			return controlResponse{Error: err.Error()}
		}
		d.log.Info().Strs("settings", settingNamesOf(req.Assign)).Msg("settings changed by the operator")
		if slices.Contains(settingNamesOf(req.Assign), projections.SettingConnectionRequestPort) {
			// The operator sets the port again after freeing it: try
			// again, not only when the setting changes.
			d.cr.forgetFailedBind()
			notice = d.cr.sync()
		} else {
			d.cr.sync()
		}
		d.kickConductor()
	case "reset":
		if _, err := d.store.Append(ctx, event.SettingsReset{Defaults: settingsEvents(d.defaults)}); err != nil {
			return controlResponse{Error: err.Error()}
		}
		d.log.Warn().Msg("reset-tr069-config: client configuration and state forgotten; next session is a BOOTSTRAP")
		notice = d.cr.sync()
		d.kickConductor()
	default:
		return controlResponse{Error: fmt.Sprintf("unknown operation %q", req.Op)}
	}
	var resp controlResponse
	d.store.View(func(s *projections.State) { resp = describe(s) })
	resp.Notice = notice
	resp.Problem, _ = d.problem.Load().(string)
	resp.OK = true
	return resp
}

// applySettings validates every assignment first, then journals them all in
// one record: invalid input changes nothing.
func applySettings(ctx context.Context, store *live.Store, assign []string) error {
	m, err := parseAssignments(assign)
	if err != nil {
		return err
	}
	if len(m) == 0 {
		return errors.New("nothing to set")
	}
	_, err = store.Append(ctx, event.SettingsChanged{Source: event.SourceCLI, Changes: settingsEvents(m)})
	return err
}
