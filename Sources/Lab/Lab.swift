// The Lab module; see ARCHITECTURE.md.
