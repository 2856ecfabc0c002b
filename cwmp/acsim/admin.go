package acsim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// maxAdminBody bounds admin request bodies (files included).
const maxAdminBody = 64 << 20

func (s *Server) adminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.adminInfo)
	mux.HandleFunc("POST /rpc", s.adminRPC)
	mux.HandleFunc("GET /transcript", s.adminTranscript)
	mux.HandleFunc("GET /devices", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, s.Devices()) })
	mux.HandleFunc("GET /devices/{key}", func(w http.ResponseWriter, r *http.Request) {
		d, ok := s.Device(r.PathValue("key"))
		if !ok {
			writeError(w, http.StatusNotFound, fmt.Errorf("acsim: admin: unknown device %q", r.PathValue("key")))
			return
		}
		writeJSON(w, http.StatusOK, d)
	})
	mux.HandleFunc("GET /sessions", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, s.Sessions()) })
	mux.HandleFunc("GET /counts", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Counts(r.URL.Query().Get("device")))
	})
	mux.HandleFunc("GET /wait", s.adminWait)
	mux.HandleFunc("POST /connreq", s.adminConnReq)
	mux.HandleFunc("POST /faults", s.adminFaults)
	mux.HandleFunc("POST /scenario", s.adminScenario)
	mux.HandleFunc("GET /files", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, s.FileStats()) })
	mux.HandleFunc("PUT /files/{name}", func(w http.ResponseWriter, r *http.Request) {
		data, err := io.ReadAll(io.LimitReader(r.Body, maxAdminBody))
		if err != nil {
			writeError(w, http.StatusBadRequest, fmt.Errorf("acsim: admin: file body: %w", err))
			return
		}
		s.AddFile(r.PathValue("name"), data)
		writeJSON(w, http.StatusOK, map[string]any{"name": r.PathValue("name"), "size": len(data), "url": s.FilesURL() + "/files/" + r.PathValue("name")})
	})
	mux.HandleFunc("POST /filefaults/{name}", func(w http.ResponseWriter, r *http.Request) {
		var f FileFault
		if err := decodeStrict(r.Body, &f); err != nil {
			writeError(w, http.StatusBadRequest, err)
			return
		}
		s.SetFileFault(r.PathValue("name"), f)
		writeJSON(w, http.StatusOK, f)
	})
	mux.HandleFunc("GET /uploads", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, s.Uploads()) })
	mux.HandleFunc("GET /uploads/{name}", func(w http.ResponseWriter, r *http.Request) {
		data, ok := s.Upload(r.PathValue("name"))
		if !ok {
			writeError(w, http.StatusNotFound, fmt.Errorf("acsim: admin: no upload %q", r.PathValue("name")))
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(data)
	})
	return mux
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, err error) {
	writeJSON(w, status, map[string]string{"error": err.Error()})
}

func decodeStrict(r io.Reader, v any) error {
	dec := json.NewDecoder(io.LimitReader(r, maxAdminBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("acsim: admin: json body: %w", err)
	}
	return nil
}

// decodeOneOrMany accepts a JSON object or an array of them.
func decodeOneOrMany[T any](r io.Reader) ([]T, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxAdminBody))
	if err != nil {
		return nil, fmt.Errorf("acsim: admin: body: %w", err)
	}
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '[' {
		var many []T
		return many, decodeStrict(bytes.NewReader(b), &many)
	}
	var one T
	if err := decodeStrict(bytes.NewReader(b), &one); err != nil {
		return nil, err
	}
	return []T{one}, nil
}

func (s *Server) adminInfo(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"cwmpURL": s.URL(), "adminURL": s.AdminURL(), "filesURL": s.FilesURL(),
		"schemaValidation": s.SchemaValidation(), "auth": s.cwmpAuth.mode, "methods": ACSMethods(),
	})
}

// adminRPC queues one RPC or an array of them; all are checked before any
// is queued.
func (s *Server) adminRPC(w http.ResponseWriter, r *http.Request) {
	rpcs, err := decodeOneOrMany[RPC](r.Body)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	for i, rpc := range rpcs {
		if _, err := ParseRPC(rpc); err != nil {
			writeError(w, http.StatusBadRequest, fmt.Errorf("acsim: admin: rpc %d: %w", i, err))
			return
		}
	}
	dev := r.URL.Query().Get("device")
	ids := make([]string, 0, len(rpcs))
	for _, rpc := range rpcs {
		id, err := s.EnqueueRPC(dev, rpc)
		if err != nil {
			writeError(w, http.StatusBadRequest, err)
			return
		}
		ids = append(ids, id)
	}
	writeJSON(w, http.StatusOK, map[string]any{"ids": ids})
}

func (s *Server) adminTranscript(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	since, _ := strconv.ParseInt(q.Get("since"), 10, 64)
	noRaw := q.Get("raw") == "0"
	out := []Entry{}
	for _, e := range s.Transcript() {
		if e.Seq <= since || (q.Get("session") != "" && e.Session != q.Get("session")) ||
			(q.Get("device") != "" && e.Device != q.Get("device")) || (q.Get("kind") != "" && e.Kind != q.Get("kind")) ||
			(q.Get("errors") == "1" && len(e.Errors) == 0) {
			continue
		}
		if noRaw {
			e.Raw = ""
		}
		out = append(out, e)
	}
	writeJSON(w, http.StatusOK, out)
}

// adminWait blocks until the counts in the query are reached: 200 with the
// counts, or 408 with the counts when timeout (default 10s) passes first.
func (s *Server) adminWait(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var min Counts
	for name, p := range map[string]*int{"sessions": &min.Sessions, "informs": &min.Informs, "transfers": &min.Transfers, "uploads": &min.Uploads, "errors": &min.Errors} {
		if v := q.Get(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				writeError(w, http.StatusBadRequest, fmt.Errorf("acsim: admin: wait %s=%q: want a count", name, v))
				return
			}
			*p = n
		}
	}
	timeout := 10 * time.Second
	if v := q.Get("timeout"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			writeError(w, http.StatusBadRequest, fmt.Errorf("acsim: admin: wait timeout: %w", err))
			return
		}
		timeout = d
	}
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	dev := q.Get("device")
	err := s.WaitCounts(ctx, dev, min)
	c := s.Counts(dev)
	if err != nil {
		writeJSON(w, http.StatusRequestTimeout, map[string]any{"ok": false, "error": err.Error(), "counts": c, "want": min})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "counts": c})
}

func (s *Server) adminConnReq(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	res, err := s.ConnectionRequest(r.Context(), q.Get("device"), q.Get("url"))
	if err != nil {
		writeJSON(w, http.StatusBadGateway, map[string]any{"error": err.Error(), "result": res})
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) adminFaults(w http.ResponseWriter, r *http.Request) {
	plans, err := decodeOneOrMany[FaultPlan](r.Body)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	s.PushFaults(plans...)
	writeJSON(w, http.StatusOK, map[string]any{"queued": len(plans)})
}

func (s *Server) adminScenario(w http.ResponseWriter, r *http.Request) {
	sc, err := ReadScenario(io.LimitReader(r.Body, maxAdminBody))
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	if err := s.ApplyScenario(sc); err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"rpcs": len(sc.RPCs), "faults": len(sc.Faults), "files": len(sc.Files)})
}
