// Package presets holds the published configurations of every method on
// every data set, by name: the constants of the authors' command lines
// (../shared/docs/strong-dfc.md §6–7), at full precision.
package presets
