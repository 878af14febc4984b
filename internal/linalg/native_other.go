//go:build !openblas

package linalg

// Core returns the name of OpenBLAS's kernel set; "" without OpenBLAS.
func Core() string { return "" }
