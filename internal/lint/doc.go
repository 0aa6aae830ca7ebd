// Package lint holds repository-wide checks run as tests: the import
// boundaries of DESIGN.md and package documentation.
package lint
