// The Optim module; see ARCHITECTURE.md.
