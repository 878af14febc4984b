package npz

import (
	"os"
	"os/exec"
)

// FindNumpy returns a Python interpreter that can import numpy, for tests
// that check files with NumPy itself: $STRONGDFC_PYTHON if set, else the
// first of python3 and /usr/bin/python3 that imports numpy (Debian's
// python3-numpy installs into the system Python, which a python3 earlier
// on PATH may hide). It returns "" when there is none.
func FindNumpy() string {
	cands := []string{"python3", "/usr/bin/python3"}
	if p := os.Getenv("STRONGDFC_PYTHON"); p != "" {
		cands = []string{p}
	}
	for _, c := range cands {
		if exec.Command(c, "-c", "import numpy").Run() == nil {
			return c
		}
	}
	return ""
}
