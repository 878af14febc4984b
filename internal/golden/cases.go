package golden

// StrongCase is one of the single-phase Strong-DFC files
// (strong_single_phase_tiny.json, strong_single_phase_noiseless.json).
type StrongCase struct {
	Config struct {
		DT               float64 `json:"dt_di"`
		Tmax             int     `json:"tmax_di"`
		TauV             float64 `json:"time_constant_ratio"`
		Alpha            float64 `json:"alpha_di"`
		KP               float64 `json:"k_p"`
		Sigma            float64 `json:"sigma"`
		SigmaOut         float64 `json:"sigma_output"`
		TauNoise         float64 `json:"tau_noise"`
		TauF             float64 `json:"tau_f"`
		TargetClassValue float64 `json:"target_class_value"`
		ClipGradNorm     float64 `json:"clip_grad_norm"`
		LR               float64 `json:"lr"`
		Beta1            float64 `json:"adam_beta1"`
		Beta2            float64 `json:"adam_beta2"`
		Eps              float64 `json:"adam_epsilon"`
		WeightDecay      float64 `json:"weight_decay"`
		LRFb             float64 `json:"lr_fb"`
		Beta1Fb          float64 `json:"adam_beta1_fb"`
		Beta2Fb          float64 `json:"adam_beta2_fb"`
		EpsFb            float64 `json:"adam_epsilon_fb"`
		WeightDecayFb    float64 `json:"weight_decay_fb"`
		BatchSize        int     `json:"batch_size"`
		LayerSizes       []int   `json:"layer_sizes"`
		AlphaU           float64 `json:"alpha_u"`
	} `json:"config"`
	Inputs struct {
		X       Array `json:"x"`
		Labels  []int `json:"labels"`
		Targets Array `json:"targets"`
	} `json:"inputs"`
	Initial struct {
		Layers []struct {
			W Array `json:"W"`
			B Array `json:"b"`
			Q Array `json:"Q"`
		} `json:"layers"`
	} `json:"initial"`
	ForwardPass struct {
		Layers []struct {
			VFF Array `json:"v_ff"`
			R   Array `json:"r"`
		} `json:"layers"`
		Output Array   `json:"output"`
		Loss   float64 `json:"loss"`
	} `json:"forward_pass"`
	Trajectory struct {
		U      Array `json:"u"`
		UInt   Array `json:"u_int"`
		E      Array `json:"e"`
		Layers []struct {
			V   Array `json:"v"`
			VFF Array `json:"v_ff"`
			VFB Array `json:"v_fb"`
			R   Array `json:"r"`
		} `json:"layers"`
	} `json:"trajectory"`
	Noise struct {
		Layers []struct {
			Xi Array `json:"xi"`
		} `json:"layers"`
		Filtered []struct {
			EpsLP Array `json:"eps_lp"`
		} `json:"filtered_layers"`
	} `json:"noise"`
	FeedbackFilter struct {
		ULP          Array `json:"u_lp"`
		UHP          Array `json:"u_hp"`
		LayerFactors []struct {
			LayerScaling float64 `json:"layer_scaling"`
			TotalScale   float64 `json:"total_scale"`
		} `json:"layer_factors"`
	} `json:"feedback_filter"`
	GradientsRaw struct {
		Layers []Grads `json:"layers"`
	} `json:"gradients_raw"`
	GradientsClipped struct {
		Layers []struct {
			Grads
			ForwardTotalNorm  float64 `json:"forward_total_norm"`
			FeedbackTotalNorm float64 `json:"feedback_total_norm"`
		} `json:"layers"`
	} `json:"gradients_clipped"`
	Adam struct {
		Layers []struct {
			WM Array `json:"W_exp_avg"`
			WV Array `json:"W_exp_avg_sq"`
			BM Array `json:"b_exp_avg"`
			BV Array `json:"b_exp_avg_sq"`
			QM Array `json:"Q_exp_avg"`
			QV Array `json:"Q_exp_avg_sq"`
		} `json:"layers"`
	} `json:"adam_state_after_step"`
	Updated struct {
		Layers []struct {
			W Array `json:"W"`
			B Array `json:"b"`
			Q Array `json:"Q"`
		} `json:"layers"`
	} `json:"updated"`
}

// Grads are one layer's gradients.
type Grads struct {
	GradW Array `json:"grad_W"`
	GradB Array `json:"grad_b"`
	GradQ Array `json:"grad_Q"`
}

// BPCase is bp_reference.json.
type BPCase struct {
	Inputs struct {
		X       Array `json:"x"`
		Labels  []int `json:"labels"`
		Targets Array `json:"targets"`
	} `json:"inputs"`
	Initial struct {
		Layers []struct {
			W Array `json:"W"`
			B Array `json:"b"`
		} `json:"layers"`
	} `json:"initial"`
	Loss        float64 `json:"loss"`
	BPGradients struct {
		Layers []struct {
			GradW Array `json:"grad_W"`
			GradB Array `json:"grad_b"`
		} `json:"layers"`
	} `json:"bp_gradients"`
	Angles struct {
		Layers []struct {
			Weights float64 `json:"weights_angle_deg"`
			Bias    float64 `json:"bias_angle_deg"`
		} `json:"layers"`
	} `json:"dfc_vs_bp_angles"`
}
