// The Surfaces module; see ARCHITECTURE.md.
