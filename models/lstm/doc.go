// Package lstm runs LSTM networks exported from Keras or PyTorch — one or
// more LSTM layers and a dense head — in pure Go, in float32, with the
// numbers the frameworks give (to about 1e-5).
//
// Weights come in a safetensors file whose __metadata__ "format" says whose
// layout the tensors are in; both are normalised at load to one internal
// layout (gates = x·Wx + h·Wh + b, gate blocks i, f, g, o):
//
//	format "keras"  lstm_<l>/kernel            (in, 4h)  = Wx
//	                lstm_<l>/recurrent_kernel  (h, 4h)   = Wh
//	                lstm_<l>/bias              (4h)      = b (absent: use_bias=False)
//	                dense/kernel (h, out), dense/bias (out)
//	format "torch"  lstm.weight_ih_l<l>        (4h, in)  = Wxᵀ
//	                lstm.weight_hh_l<l>        (4h, h)   = Whᵀ
//	                lstm.bias_ih_l<l>, lstm.bias_hh_l<l> (4h): b = b_ih + b_hh
//	                linear.weight (out, h), linear.bias (out)
//
// Gate order is the same in both frameworks (Keras calls the candidate c,
// PyTorch g). Other metadata: recurrent_activation (Keras: sigmoid or
// hard_sigmoid, read with keras_version because hard_sigmoid changed in
// Keras 3), activation (tanh only), head_activation (linear or sigmoid),
// and the input description features / mean / std / steps (see Input).
//
// Two ways to run a model. Windowed (Predict, PredictBatch): each call
// starts from a zero state and runs a whole window — what Keras does for a
// (batch, steps, features) input, what the model was trained on, and what
// to serve by default. Stateful (Step): one input per call, carrying h and
// c in a State — one step's cost instead of a window's, for models trained
// statefully (or on long sequences), where the state's memory should span
// more than a window. Fed the same inputs from a zero state, the two agree.
//
// Speed: on amd64 with AVX2 and FMA (checked at run time; build tag
// purego turns it off) the gate products run in an assembly kernel
// (register-blocked 3 rows × 32 columns, float32 fused multiply-adds) and
// the cell in another with float32 sigmoid and tanh accurate to a few ulp;
// elsewhere, portable Go (gonum's axpy, float64 activations). Both give a
// sequence the same bits alone or in a batch, and in windowed or stateful
// mode; they differ from each other by far less than the 1e-5 to which
// both match the frameworks. See kernel.go.
//
// The package must not know about ticks or features beyond the names in
// the metadata, and must not allocate per prediction: callers keep a
// Workspace per goroutine.
package lstm
