import CDNNL
// The NN module; see ARCHITECTURE.md.
let dnnlMajor = dnnl_version().pointee.major
