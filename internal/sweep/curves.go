package sweep

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/strongdfc/strongdfc/internal/runfolder"
	"github.com/strongdfc/strongdfc/train"
)

// History reads the epochs a run folder's metrics.jsonl holds, in the
// order they ran. A last line without its newline (an epoch another
// process is writing) is left out; a folder without the file has no
// epochs yet and gives none, with no error.
func History(dir string) ([]train.EpochResult, error) {
	path := filepath.Join(dir, runfolder.MetricsJS)
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var h []train.EpochResult
	for n := 1; len(b) > 0; n++ {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			break
		}
		line := bytes.TrimSpace(b[:i])
		b = b[i+1:]
		if len(line) == 0 {
			continue
		}
		var r train.EpochResult
		if err := json.Unmarshal(line, &r); err != nil {
			return nil, fmt.Errorf("%s, line %d: %w (the file is the run's record of its epochs; metrics.csv holds the same rows)", path, n, err)
		}
		h = append(h, r)
	}
	return h, nil
}
