//go:build !openblas

package compute

// Core returns the name of OpenBLAS's kernel set; "" without OpenBLAS.
func Core() string { return "" }
