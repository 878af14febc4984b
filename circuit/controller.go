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
//	u_int[k+1] = u_int[k] + dt·(e[k] − α·u[k])     (the leak acts on the total u)
//	u[k+1]     = u_int[k+1] + k_p·e[k]
//
// It also keeps the low-pass-filtered control u_lp (coefficient a_u,
// started at the first u after a reset) and the high-passed u_hp = u − u_lp
// that the feedback rule uses.
type Controller struct {
	dt, alpha, kp, au float64
	kind              ErrorKind
	// U, UInt, E, ULP and UHP are the state, batch × n_L. E is the error of
	// the last step.
	U, UInt, E, ULP, UHP *mat.Dense
	started              bool
}

func newController(batch, nOut int, dt, alpha, kp, au float64, kind ErrorKind) *Controller {
	return &Controller{
		dt: dt, alpha: alpha, kp: kp, au: au, kind: kind,
		U: mat.NewDense(batch, nOut, nil), UInt: mat.NewDense(batch, nOut, nil),
		E: mat.NewDense(batch, nOut, nil), ULP: mat.NewDense(batch, nOut, nil),
		UHP: mat.NewDense(batch, nOut, nil),
	}
}

// view returns a controller sharing c's constants whose state is the first
// b rows of c's.
func (c *Controller) view(b int) *Controller {
	v := *c
	_, n := c.U.Dims()
	sl := func(m *mat.Dense) *mat.Dense { return m.Slice(0, b, 0, n).(*mat.Dense) }
	v.U, v.UInt, v.E, v.ULP, v.UHP = sl(c.U), sl(c.UInt), sl(c.E), sl(c.ULP), sl(c.UHP)
	return &v
}

// Reset zeroes the control and restarts the high-pass filter.
func (c *Controller) Reset() {
	c.U.Zero()
	c.UInt.Zero()
	c.E.Zero()
	c.ULP.Zero()
	c.UHP.Zero()
	c.started = false
}

// Step computes e[k] from the output rates rL and the target, and advances
// u, u_int, u_lp and u_hp to step k+1.
func (c *Controller) Step(rL, target *mat.Dense) {
	b, n := c.U.Dims()
	for i := range b {
		e, y, t := c.E.RawRowView(i), rL.RawRowView(i), target.RawRowView(i)
		if c.kind == SoftmaxError {
			softmaxRow(e, y)
			for j := range n {
				e[j] = t[j] - e[j]
			}
		} else {
			for j := range n {
				e[j] = t[j] - y[j]
			}
		}
		u, ui := c.U.RawRowView(i), c.UInt.RawRowView(i)
		lp, hp := c.ULP.RawRowView(i), c.UHP.RawRowView(i)
		for j := range n {
			ui[j] += c.dt * (e[j] - c.alpha*u[j])
			u[j] = ui[j] + c.kp*e[j]
			if c.started {
				lp[j] = c.au*u[j] + (1-c.au)*lp[j]
			} else {
				lp[j] = u[j]
			}
			hp[j] = u[j] - lp[j]
		}
	}
	c.started = true
}
