package plots

import (
	"math"
	"testing"

	"github.com/strongdfc/strongdfc/train"
)

func TestCompare(t *testing.T) {
	h := history() // one pre-training epoch, then training epochs 1-3
	runs := []Run{{Name: "a", Group: 0, History: h}, {Name: "b", Group: 0, History: h[:3]}, {Name: "c", Group: 11, History: h}}
	fig := Compare(runs, "cross-entropy")
	if len(fig.Panels) != 2 || fig.Panels[0].Title != "test accuracy after each epoch" || fig.Panels[1].Title != "training loss (cross-entropy)" {
		t.Fatalf("panels %+v", fig.Panels)
	}
	acc := fig.Panels[0].Series
	if len(acc) != 3 {
		t.Fatalf("%d series, want one per run", len(acc))
	}
	// Pre-training changes no forward weight: the curves start at epoch 1.
	if want := []float64{1, 2, 3}; !equal(acc[0].X, want) || !equal(acc[1].X, want[:2]) {
		t.Errorf("x %v, %v; want the training epochs", acc[0].X, acc[1].X)
	}
	if got := acc[0].Y[2]; math.Abs(got-100*(1-0.13/3)) > 1e-12 {
		t.Errorf("accuracy of epoch 3 %g, want the test accuracy in %%", got)
	}
	if got := fig.Panels[1].Series[0].Y[0]; got != 1 {
		t.Errorf("loss of epoch 1 %g, want the training loss", got)
	}
	// One colour per group; its second run dashed; groups past the palette swap.
	if acc[0].Color != acc[1].Color || acc[0].Dashed || !acc[1].Dashed || acc[2].Color != 1 || !acc[2].Dashed {
		t.Errorf("styles %+v", acc)
	}
	// An autoencoder has no accuracy: its panel is left out.
	ae := append([]train.EpochResult(nil), h...)
	for i := range ae {
		ae[i].TestAccuracy = math.NaN()
	}
	if fig := Compare([]Run{{Name: "ae", History: ae}}, "mean squared error"); len(fig.Panels) != 1 {
		t.Errorf("%d panels for an autoencoder, want the loss alone", len(fig.Panels))
	}
	if err := fig.Save(t.TempDir(), "curves"); err != nil {
		t.Fatal(err)
	}
}

func equal(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
