extension DecodedImage {
    /// Which pixels of the `side x side` image that `fittedToSquare(side:)` makes lie under a
    /// fully transparent pixel of this one (OpenAI's edit masks: transparent is regenerated).
    /// Each source pixel marks every target pixel its area touches after the centred-square
    /// crop and scaling, so a thin stroke never fades away as a resampled alpha would.
    public func transparentPixels(fittedToSquare side: Int) -> [Bool] {
        let square = min(width, height)
        let left = (width - square) / 2, top = (height - square) / 2
        var regenerate = [Bool](repeating: false, count: side * side)
        // Source column/row `i` of the square covers target pixels [i*side/square, ceil((i+1)*side/square)).
        func span(_ i: Int) -> Range<Int> { (i * side / square)..<max(i * side / square + 1, ((i + 1) * side + square - 1) / square) }
        pixels.withUnsafeBufferPointer { rgba in
            for y in 0..<square {
                let rows = span(y)
                for x in 0..<square where rgba[((top + y) * width + left + x) * 4 + 3] == 0 {
                    for row in rows {
                        for column in span(x) { regenerate[row * side + column] = true }
                    }
                }
            }
        }
        return regenerate
    }
}
