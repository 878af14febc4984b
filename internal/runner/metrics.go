package runner

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"os"
	"strconv"

	"github.com/strongdfc/strongdfc/internal/runfolder"
	"github.com/strongdfc/strongdfc/train"
)

// metrics writes metrics.csv and metrics.jsonl: one row per finished
// epoch, flushed and synced at once so that a killed run keeps every
// epoch it finished. Columns are train.MetricColumns and then the
// diagnostics of train.DiagnosticNames (empty where an epoch has none).
type metrics struct {
	run     *runfolder.Run
	diag    []string
	csv, js *os.File
}

// openMetrics writes both files anew from the history (atomically, so
// that a resumed run's files hold exactly the checkpoint's epochs) and
// opens them for appending.
func openMetrics(run *runfolder.Run, layers int, history []train.EpochResult) (*metrics, error) {
	m := &metrics{run: run, diag: train.DiagnosticNames(layers)}
	var c, j bytes.Buffer
	cw := csv.NewWriter(&c)
	cw.Write(append(append([]string(nil), train.MetricColumns...), m.diag...)) //nolint:errcheck // checked by Error
	for _, r := range history {
		cw.Write(m.row(r)) //nolint:errcheck
		b, err := json.Marshal(r)
		if err != nil {
			return nil, err
		}
		j.Write(append(b, '\n'))
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		name string
		b    []byte
		dst  **os.File
	}{{runfolder.MetricsCSV, c.Bytes(), &m.csv}, {runfolder.MetricsJS, j.Bytes(), &m.js}} {
		if err := run.WriteFile(f.name, func(w io.Writer) error { _, err := w.Write(f.b); return err }); err != nil {
			return nil, err
		}
		fh, err := os.OpenFile(run.Path(f.name), os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			return nil, err
		}
		*f.dst = fh
	}
	return m, nil
}

func (m *metrics) row(r train.EpochResult) []string {
	row := r.Values()
	for _, k := range m.diag {
		v, ok := r.Diagnostics[k]
		if !ok {
			row = append(row, "")
			continue
		}
		row = append(row, strconv.FormatFloat(v, 'g', -1, 64))
	}
	return row
}

// append writes one epoch's row to both files.
func (m *metrics) append(r train.EpochResult) error {
	var c bytes.Buffer
	cw := csv.NewWriter(&c)
	cw.Write(m.row(r)) //nolint:errcheck
	cw.Flush()
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	for _, w := range []struct {
		f *os.File
		b []byte
	}{{m.csv, c.Bytes()}, {m.js, append(b, '\n')}} {
		if _, err := w.f.Write(w.b); err != nil {
			return err
		}
		if err := w.f.Sync(); err != nil {
			return err
		}
	}
	return nil
}

func (m *metrics) close() {
	m.csv.Close()
	m.js.Close()
}
