package train_test

import (
	"math"
	"testing"

	"github.com/strongdfc/strongdfc/presets"
	"github.com/strongdfc/strongdfc/train"
)

// TestAutoencoderLearns: the autoencoder task (the input is the target,
// MSE, no accuracy) trains through the trainer by Strong-DFC and by
// backprop, in a small network of the preset's shape (tanh, linear
// bottleneck, tanh, linear output): the test MSE falls.
func TestAutoencoderLearns(t *testing.T) {
	for _, base := range []train.Config{presets.MNISTAutoencoder(), presets.MNISTAutoencoderBP()} {
		t.Run(base.Method, func(t *testing.T) {
			c := base
			c.Hidden = []int{12, 4, 12}
			c.Epochs, c.Batch, c.Validation = 3, 16, 32
			c.Forward.LR = 1e-2
			if c.Dynamics.Steps > 0 {
				c.Dynamics.Steps = 60
			}
			tr, err := train.New(c, tinyData(t, c))
			if err != nil {
				t.Fatal(err)
			}
			if n := tr.Net.NOut(); n != 16 {
				t.Fatalf("output of %d units for 16 inputs", n)
			}
			before, acc := tr.Evaluate(tr.Data().Test)
			if !math.IsNaN(acc) {
				t.Errorf("an autoencoder reports accuracy %g", acc)
			}
			finish(t, tr)
			after, _ := tr.Evaluate(tr.Data().Test)
			if !(after < 0.7*before) {
				t.Errorf("test MSE %.4f after training, %.4f before", after, before)
			}
			h := tr.History()
			if r := h[len(h)-1]; !math.IsNaN(r.TrainAccuracy) || r.TestLoss != after {
				t.Errorf("last epoch: train accuracy %g, test loss %g (evaluated %g)", r.TrainAccuracy, r.TestLoss, after)
			}
		})
	}
}
