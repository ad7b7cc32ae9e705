import CCairo
// The Plot module; see ARCHITECTURE.md.
let cairoVersion = cairo_version()
