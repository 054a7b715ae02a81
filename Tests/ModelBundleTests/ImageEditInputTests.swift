import Imaging
import ModelBundle
import XCTest

/// What an edit's image, mask and strength ask for (OpenAI's rules), and the input named when
/// they do not say it.
final class ImageEditInputTests: XCTestCase {
    func image(side: Int = 8, alpha: (Int, Int) -> UInt8 = { _, _ in 255 }, hasAlpha: Bool = true) -> DecodedImage {
        var pixels = [UInt8](repeating: 0, count: side * side * 4)
        for y in 0..<side {
            for x in 0..<side {
                pixels[(y * side + x) * 4] = UInt8(x * 16)
                pixels[(y * side + x) * 4 + 1] = UInt8(y * 16)
                pixels[(y * side + x) * 4 + 3] = alpha(x, y)
            }
        }
        return DecodedImage(width: side, height: side, pixels: pixels, hasAlpha: hasAlpha)
    }

    func testTheMasksTransparentPixelsAreRegenerated() throws {
        let mask = image(alpha: { x, _ in x < 2 ? 0 : 255 })
        let edit = try ImageEdit(image: image(), mask: mask, strength: nil, side: 8)
        XCTAssertEqual(edit.region, .pixels((0..<64).map { $0 % 8 < 2 }))
        XCTAssertEqual(edit.rgb.count, 8 * 8 * 3)
        XCTAssertEqual(Array(edit.rgb[(9 * 3)..<(9 * 3 + 3)]), [16, 16, 0], "the picture's colours, alpha dropped")
    }

    func testWithoutMaskTheStrengthElseTheImagesTransparencyDecides() throws {
        XCTAssertEqual(try ImageEdit(image: image(), mask: nil, strength: 0.25, side: 8).region, .strength(0.25))
        let holed = image(alpha: { x, y in x == 3 && y == 4 ? 0 : 255 })
        XCTAssertEqual(try ImageEdit(image: holed, mask: nil, strength: nil, side: 8).region, .pixels((0..<64).map { $0 == 4 * 8 + 3 }))
    }

    func testInputsThatDoNotSayWhatToRegenerateNameTheInput() {
        func failure(_ make: () throws(ImageEdit.InputError) -> ImageEdit) -> ImageEdit.InputError? {
            do {
                _ = try make()
                return nil
            } catch {
                return error
            }
        }
        let mask = image(alpha: { _, _ in 0 })
        XCTAssertEqual(
            failure { () throws(ImageEdit.InputError) in try ImageEdit(image: image(), mask: mask, strength: 0.5, side: 8) }?.input, .strength)
        XCTAssertEqual(
            failure { () throws(ImageEdit.InputError) in try ImageEdit(image: image(), mask: image(side: 4), strength: nil, side: 8) }?.input, .mask)
        let opaqueMask = image(hasAlpha: false)
        XCTAssertEqual(
            failure { () throws(ImageEdit.InputError) in try ImageEdit(image: image(), mask: opaqueMask, strength: nil, side: 8) }?.input, .mask)
        let nothing = failure { () throws(ImageEdit.InputError) in try ImageEdit(image: image(), mask: nil, strength: nil, side: 8) }
        XCTAssertEqual(nothing?.input, .mask)
        XCTAssertEqual(nothing?.isMissing, true)
    }
}
