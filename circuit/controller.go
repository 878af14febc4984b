package circuit

import (
	"fmt"

	"gonum.org/v1/gonum/mat"
)

// ErrorKind selects how the controller compares the output with its target.
type ErrorKind uint8

const (
	// SoftmaxError is e = r* − softmax(r_L), the cross-entropy-style error of
	// strong feedback.
	SoftmaxError ErrorKind = iota
	// DifferenceError is e = r* − r_L, used by weak DFC and during feedback
	// pre-training.
	DifferenceError
)

// String names the error kind.
func (k ErrorKind) String() string {
	switch k {
	case SoftmaxError:
		return "softmax"
	case DifferenceError:
		return "difference"
	}
	return fmt.Sprintf("ErrorKind(%d)", uint8(k))
}

// Controller is the leaky PI controller that drives the output to its
// target. Its state is batch × n_L:
//
//	e[k]       = r* − f(r_L[k])
//	u_int[k+1] = u_int[k] + dt·(e[k] − α·u[k] − β·u_int[k])
//	u[k+1]     = u_int[k+1] + k_p·e[k]
//
// As published the leak α acts on the total u and β = 0. The leak β acts
// on the integral alone (Params.IntegralLeak): the integral forgets with
// time constant 1/β while the proportional part keeps its strength, which
// a never-reset stream needs when samples are shorter than 1/α.
type Controller struct {
	dt, alpha, beta, kp float64
	kind                ErrorKind
	// U, UInt and E are the state, batch × n_L. E is the error of the last
	// step.
	U, UInt, E *mat.Dense
}

func newController(batch, nOut int, dt, alpha, beta, kp float64, kind ErrorKind) *Controller {
	return &Controller{
		dt: dt, alpha: alpha, beta: beta, kp: kp, kind: kind,
		U: mat.NewDense(batch, nOut, nil), UInt: mat.NewDense(batch, nOut, nil),
		E: mat.NewDense(batch, nOut, nil),
	}
}

// view returns a controller sharing c's constants whose state is the first
// b rows of c's.
func (c *Controller) view(b int) *Controller {
	v := *c
	_, n := c.U.Dims()
	sl := func(m *mat.Dense) *mat.Dense { return m.Slice(0, b, 0, n).(*mat.Dense) }
	v.U, v.UInt, v.E = sl(c.U), sl(c.UInt), sl(c.E)
	return &v
}

// Reset zeroes the control.
func (c *Controller) Reset() {
	c.U.Zero()
	c.UInt.Zero()
	c.E.Zero()
}

// Step computes e[k] from the output rates rL and the target, and advances
// u and u_int to step k+1.
func (c *Controller) Step(rL, target *mat.Dense) {
	b, n := c.U.Dims()
	for i := range b {
		e, y, t := c.E.RawRowView(i), rL.RawRowView(i), target.RawRowView(i)
		if c.kind == SoftmaxError {
			SoftmaxRow(e, y)
			for j := range n {
				e[j] = t[j] - e[j]
			}
		} else {
			for j := range n {
				e[j] = t[j] - y[j]
			}
		}
		u, ui := c.U.RawRowView(i), c.UInt.RawRowView(i)
		if c.beta == 0 { // as published, bit for bit
			for j := range n {
				ui[j] += c.dt * (e[j] - c.alpha*u[j])
				u[j] = ui[j] + c.kp*e[j]
			}
			continue
		}
		for j := range n {
			ui[j] += c.dt * (e[j] - c.alpha*u[j] - c.beta*ui[j])
			u[j] = ui[j] + c.kp*e[j]
		}
	}
}
