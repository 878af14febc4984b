package sweep

import (
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
	lines, numbers := runfolder.CompleteLines(b)
	h := make([]train.EpochResult, len(lines))
	for i, line := range lines {
		if err := json.Unmarshal(line, &h[i]); err != nil {
			return nil, fmt.Errorf("%s, line %d: %w (the file is the run's record of its epochs; metrics.csv holds the same rows)", path, numbers[i], err)
		}
	}
	return h, nil
}
