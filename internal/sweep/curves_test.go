package sweep

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strongdfc/strongdfc/internal/runfolder"
)

func TestHistory(t *testing.T) {
	dir := t.TempDir()
	if h, err := History(dir); err != nil || h != nil {
		t.Fatalf("a folder without metrics: %v, %v; want no epochs and no error", h, err)
	}
	lines := `{"phase":"pretrain","epoch":1,"train_loss":2.3,"test_accuracy":0.1}
{"phase":"train","epoch":1,"train_loss":0.7,"test_accuracy":0.92,"control":0.01}

{"phase":"train","epoch":2,"train_loss":0.3,"test_accuracy":null}
{"phase":"train","epoch":3,"train_lo`
	path := filepath.Join(dir, runfolder.MetricsJS)
	os.WriteFile(path, []byte(lines), 0o644)
	h, err := History(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 3 || h[0].Phase != "pretrain" || h[1].TestAccuracy != 0.92 || h[1].Diagnostics["control"] != 0.01 || h[2].Epoch != 2 || h[2].TestAccuracy == h[2].TestAccuracy {
		t.Errorf("history %+v: want three epochs, the line being written left out, null as NaN", h)
	}
	os.WriteFile(path, []byte(lines[:40]+"\n"), 0o644)
	if _, err := History(dir); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("a broken line: %v, want an error naming it", err)
	}
}
