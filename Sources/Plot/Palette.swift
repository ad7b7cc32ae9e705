/// The categorical palette: Okabe & Ito's colour-blind-safe set (yellow dropped: it vanishes on
/// white) extended with three colours from Paul Tol's "muted" scheme for larger comparisons.
/// Which series gets which colour is the caller's choice (optimizers: `OptimizerStyle` in Figures).
public enum Palette {
    public static let colors: [Color] = [
        Color(hex: 0x0072B2),  // blue
        Color(hex: 0xE69F00),  // orange
        Color(hex: 0x009E73),  // bluish green
        Color(hex: 0x56B4E9),  // sky blue
        Color(hex: 0x882255),  // wine (Tol)
        Color(hex: 0xD55E00),  // vermillion
        Color(hex: 0xCC79A7),  // reddish purple
        Color(hex: 0x000000),  // black
        Color(hex: 0x999933),  // olive (Tol)
        Color(hex: 0x332288),  // indigo (Tol)
        Color(hex: 0x44AA99),  // teal (Tol)
    ]

    /// Nine more for the optimizers beyond the classic set, from Paul Tol's muted, vibrant and
    /// high-contrast schemes (the same colour-blind-safe rules); not used for hashed keys, so
    /// the colours of existing keys stay put.
    public static let additional: [Color] = [
        Color(hex: 0xEE3377),  // magenta (Tol vibrant)
        Color(hex: 0xCC6677),  // rose (Tol muted)
        Color(hex: 0xBBBBBB),  // grey (Tol vibrant)
        Color(hex: 0x88CCEE),  // cyan (Tol muted)
        Color(hex: 0xAA4499),  // purple (Tol muted)
        Color(hex: 0xDDAA33),  // ochre (Tol high contrast)
        Color(hex: 0x117733),  // green (Tol muted)
        Color(hex: 0x661100),  // brown (Tol)
        Color(hex: 0xDDCC77),  // sand (Tol muted)
    ]

    /// A colour for any key (case-insensitive) from a stable hash, so a series keeps its colour
    /// from run to run.
    public static func color(forKey key: String) -> Color {
        let normalized = key.lowercased()
        // FNV-1a: Swift's own Hasher is seeded per process and would change colours between runs.
        var hash: UInt64 = 0xcbf29ce484222325
        for byte in normalized.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100000001b3 }
        return colors[Int(hash % UInt64(colors.count))]
    }
}
