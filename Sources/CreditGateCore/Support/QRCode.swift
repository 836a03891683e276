/// A QR code (ISO/IEC 18004) in byte mode, built by the server itself so TOTP enrolment needs no third-party script,
/// image service or asset: the shared secret never leaves the process that generated it.
///
/// Only what enrolment needs is implemented: a single byte-mode segment, no ECI header, no Micro QR, no structured
/// append. An `otpauth://` URI is plain ASCII, which every authenticator app reads in byte mode.
///
/// The symbol is built the way the standard describes it: data bits and pad codewords (7.4), Reed–Solomon error
/// correction over GF(256) with the block structure of Table 9 (7.5, 7.6), function patterns (6.3), codeword placement
/// (7.7), data masking chosen by the four penalty rules (7.8), then format and version information (7.9, 7.10).
public struct QRCode: Sendable, Equatable {
    /// The error-correction level: the share of codewords that may be lost and still be recovered, about
    /// 7 % (`low`), 15 % (`medium`), 25 % (`quartile`) and 30 % (`high`).
    public enum Correction: Sendable, CaseIterable {
        case low, medium, quartile, high

        /// The row of this level in the block tables.
        fileprivate var tableRow: Int {
            switch self {
            case .low: 0
            case .medium: 1
            case .quartile: 2
            case .high: 3
            }
        }
    }

    /// The symbol version, 1...40; it fixes the size.
    public let version: Int
    /// Modules per side, `17 + 4 * version`, without the quiet zone.
    public let size: Int
    /// The data mask pattern, 0...7, as written in the format information.
    public let mask: Int
    /// Row-major, `true` for a dark module; always `size * size` entries.
    private let modules: [Bool]

    /// Whether the module in column `x`, row `y` is dark; (0, 0) is the top-left corner.
    ///
    /// Requires `0 <= x < size` and `0 <= y < size`: the quiet zone around the symbol is the renderer's to draw.
    public func isDark(x: Int, y: Int) -> Bool {
        precondition(0 <= x && x < size && 0 <= y && y < size, "module (\(x), \(y)) is outside a \(size)-module symbol")
        return modules[y * size + x]
    }

    /// Encodes bytes in byte mode at the smallest version that fits, choosing the mask by the standard's penalty rules.
    ///
    /// Throws `QRCodeError.dataTooLong` when the bytes do not fit even version 40 at this correction level
    /// (2953 bytes at `low`, 1273 at `high`).
    public static func encode(_ bytes: [UInt8], correction: Correction = .medium) throws -> QRCode {
        try encode(bytes, correction: correction, version: nil, mask: nil)
    }

    /// For tests: force a version and/or mask; `nil` chooses as `encode(_:correction:)` does.
    ///
    /// Requires a forced `version` in 1...40 and a forced `mask` in 0...7. Throws `QRCodeError.dataTooLong` when the
    /// bytes do not fit the forced version (or version 40).
    public static func encode(_ bytes: [UInt8], correction: Correction, version: Int?, mask: Int?) throws -> QRCode {
        if let version {
            precondition((1...40).contains(version), "QR code versions are 1...40, not \(version)")
        }
        if let mask {
            precondition((0...7).contains(mask), "QR code masks are 0...7, not \(mask)")
        }
        let chosenVersion: Int
        if let version {
            guard fits(byteCount: bytes.count, version: version, correction: correction) else {
                throw QRCodeError.dataTooLong
            }
            chosenVersion = version
        } else {
            guard let smallest = (1...40).first(where: { fits(byteCount: bytes.count, version: $0, correction: correction) })
            else { throw QRCodeError.dataTooLong }
            chosenVersion = smallest
        }

        let data = dataCodewords(bytes, version: chosenVersion, correction: correction)
        let codewords = finalMessage(data, version: chosenVersion, correction: correction)

        var matrix = Matrix(version: chosenVersion)
        matrix.place(codewords)
        let chosenMask = mask ?? matrix.bestMask()
        matrix.applyMask(chosenMask)
        // Format and version information and the dark module are written after the mask is chosen, as 7.8 orders it,
        // so they do not take part in the penalty evaluation (see `Matrix.bestMask`).
        matrix.drawFormatInformation(correction: correction, mask: chosenMask)
        matrix.drawVersionInformation(version: chosenVersion)
        matrix.drawDarkModule()

        return QRCode(version: chosenVersion, size: matrix.size, mask: chosenMask, modules: matrix.dark)
    }

    /// An SVG document fragment (`<svg ...>...</svg>`) for inline use in an HTML page.
    ///
    /// The quiet zone of `quietZone` modules is part of the white background (scanners need at least 4). The dark
    /// modules are one `<path>` made of `M`/`h`/`v`/`z` commands, one rectangle per horizontal run, so the markup
    /// stays small. Only presentation attributes are used, never `style`, because the page's Content-Security-Policy
    /// forbids inline styles. `width`/`height` default to 4 px per module; a stylesheet may override them, the
    /// `viewBox` keeps it square and `shape-rendering="crispEdges"` keeps module edges sharp when scaled.
    /// `label` becomes the `aria-label` (XML-escaped) for screen readers.
    ///
    /// Requires `quietZone >= 0`.
    public func svg(quietZone: Int = 4, label: String) -> String {
        precondition(quietZone >= 0, "a quiet zone cannot be negative")
        let extent = size + 2 * quietZone
        let pixels = extent * 4
        var path = ""
        for y in 0..<size {
            var x = 0
            while x < size {
                guard modules[y * size + x] else {
                    x += 1
                    continue
                }
                let start = x
                while x < size, modules[y * size + x] {
                    x += 1
                }
                let run = x - start
                path += "M\(start + quietZone) \(y + quietZone)h\(run)v1h-\(run)z"
            }
        }
        return "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(extent) \(extent)\" "
            + "width=\"\(pixels)\" height=\"\(pixels)\" role=\"img\" aria-label=\"\(Self.xmlEscaped(label))\" "
            + "shape-rendering=\"crispEdges\">"
            + "<rect width=\"\(extent)\" height=\"\(extent)\" fill=\"#fff\"/>"
            + "<path fill=\"#000\" d=\"\(path)\"/>"
            + "</svg>"
    }
}

/// Why a QR code could not be made.
public enum QRCodeError: Error, Equatable {
    /// The bytes exceed the capacity of version 40 (or of the forced version) at the requested correction level.
    case dataTooLong
}

// MARK: - Capacity and data codewords (7.4)

extension QRCode {
    /// Mode indicator for 8-bit byte mode (Table 2).
    private static let byteModeIndicator = 0b0100

    /// Bits of the character count indicator in byte mode (Table 3): 8 up to version 9, 16 from version 10.
    static func characterCountBits(version: Int) -> Int {
        version <= 9 ? 8 : 16
    }

    /// Whether `byteCount` bytes fit one byte-mode segment of `version` at `correction`.
    static func fits(byteCount: Int, version: Int, correction: Correction) -> Bool {
        let countBits = characterCountBits(version: version)
        guard byteCount < 1 << countBits else { return false }
        let needed = 4 + countBits + 8 * byteCount
        return needed <= 8 * dataCodewordCount(version: version, correction: correction)
    }

    /// The data codewords: mode, count, the bytes, a terminator of up to four zero bits, zero bits to the byte
    /// boundary, then the pad codewords 0xEC and 0x11 alternately up to capacity (7.4.9, 7.4.10).
    ///
    /// Requires that the bytes fit (`fits(byteCount:version:correction:)`).
    static func dataCodewords(_ bytes: [UInt8], version: Int, correction: Correction) -> [UInt8] {
        let capacity = dataCodewordCount(version: version, correction: correction)
        var bits = BitBuffer()
        bits.append(byteModeIndicator, count: 4)
        bits.append(bytes.count, count: characterCountBits(version: version))
        for byte in bytes {
            bits.append(Int(byte), count: 8)
        }
        precondition(bits.count <= 8 * capacity, "data does not fit version \(version)")
        bits.append(0, count: min(4, 8 * capacity - bits.count))
        bits.append(0, count: (8 - bits.count % 8) % 8)
        var codewords = bits.bytes
        var pad: UInt8 = 0xEC
        while codewords.count < capacity {
            codewords.append(pad)
            pad = pad == 0xEC ? 0x11 : 0xEC
        }
        return codewords
    }

    /// Bits appended most significant first, as the standard writes every field.
    private struct BitBuffer {
        private(set) var bits: [Bool] = []

        var count: Int { bits.count }

        /// Appends the low `count` bits of `value`.
        mutating func append(_ value: Int, count: Int) {
            for shift in stride(from: count - 1, through: 0, by: -1) {
                bits.append((value >> shift) & 1 == 1)
            }
        }

        /// The bits packed eight to a byte. Requires a whole number of bytes.
        var bytes: [UInt8] {
            precondition(bits.count % 8 == 0, "bit stream is not byte aligned")
            return stride(from: 0, to: bits.count, by: 8).map { start in
                bits[start..<start + 8].reduce(UInt8(0)) { $0 << 1 | ($1 ? 1 : 0) }
            }
        }
    }
}

// MARK: - Error correction (7.5, 7.6)

extension QRCode {
    /// Error-correction codewords per block for versions 1...40 (ISO/IEC 18004 Table 9), one row per correction
    /// level in the order low, medium, quartile, high (`Correction.tableRow`).
    private static let ecCodewordsPerBlock: [[Int]] = [
        [ // low
            7, 10, 15, 20, 26, 18, 20, 24, 30, 18, 20, 24, 26, 30, 22, 24, 28, 30, 28, 28,
            28, 28, 30, 30, 26, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30,
        ],
        [ // medium
            10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26,
            26, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28,
        ],
        [ // quartile
            13, 22, 18, 26, 18, 24, 18, 22, 20, 24, 28, 26, 24, 20, 30, 24, 28, 28, 26, 30,
            28, 30, 30, 30, 30, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30,
        ],
        [ // high
            17, 28, 22, 16, 22, 28, 26, 26, 24, 28, 24, 28, 22, 24, 24, 30, 28, 28, 26, 28,
            30, 24, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30,
        ],
    ]

    /// Number of error-correction blocks for versions 1...40 (ISO/IEC 18004 Table 9), rows as above.
    private static let blockCounts: [[Int]] = [
        [ // low
            1, 1, 1, 1, 1, 2, 2, 2, 2, 4, 4, 4, 4, 4, 6, 6, 6, 6, 7, 8,
            8, 9, 9, 10, 12, 12, 12, 13, 14, 15, 16, 17, 18, 19, 19, 20, 21, 22, 24, 25,
        ],
        [ // medium
            1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16,
            17, 17, 18, 20, 21, 23, 25, 26, 28, 29, 31, 33, 35, 37, 38, 40, 43, 45, 47, 49,
        ],
        [ // quartile
            1, 1, 2, 2, 4, 4, 6, 6, 8, 8, 8, 10, 12, 16, 12, 17, 16, 18, 21, 20,
            23, 23, 25, 27, 29, 34, 34, 35, 38, 40, 43, 45, 48, 51, 53, 56, 59, 62, 65, 68,
        ],
        [ // high
            1, 1, 2, 4, 4, 4, 5, 6, 8, 8, 11, 11, 16, 16, 18, 16, 19, 21, 25, 25,
            25, 34, 30, 32, 35, 37, 40, 42, 45, 48, 51, 54, 57, 60, 63, 66, 70, 74, 77, 81,
        ],
    ]

    /// The (error-correction codewords per block, number of blocks) of Table 9. Requires `1 <= version <= 40`.
    static func blockLayout(version: Int, correction: Correction) -> (ecPerBlock: Int, blocks: Int) {
        (ecCodewordsPerBlock[correction.tableRow][version - 1], blockCounts[correction.tableRow][version - 1])
    }

    /// Modules left for codewords once every function pattern and the format and version areas are placed.
    ///
    /// Counted from the parts of 6.3 rather than tabulated: three finders with separators (3 × 64), two copies of
    /// format information plus the dark module (31), the two timing lines between the separators (2 × (size − 16)),
    /// alignment patterns (25 modules each; n² − 3 of them, and the 2(n − 2) on row or column 6 share 5 modules with
    /// a timing line), and two 6 × 3 version blocks from version 7. Requires `1 <= version <= 40`.
    static func rawDataModules(version: Int) -> Int {
        let size = 17 + 4 * version
        var count = size * size - 3 * 64 - 31 - 2 * (size - 16)
        let perAxis = alignmentCenters[version - 1].count
        if perAxis > 0 {
            count -= 25 * (perAxis * perAxis - 3) - 5 * 2 * (perAxis - 2)
        }
        if version >= 7 {
            count -= 36
        }
        return count
    }

    /// Data codewords of a version at a correction level: all codewords less the error-correction ones.
    static func dataCodewordCount(version: Int, correction: Correction) -> Int {
        let layout = blockLayout(version: version, correction: correction)
        return rawDataModules(version: version) / 8 - layout.ecPerBlock * layout.blocks
    }

    /// Splits the data codewords into blocks, appends each block's Reed–Solomon codewords and interleaves them (7.6).
    ///
    /// Where the codewords do not divide evenly the later blocks carry one data codeword more; every block has the
    /// same number of error-correction codewords.
    static func finalMessage(_ data: [UInt8], version: Int, correction: Correction) -> [UInt8] {
        let (ecPerBlock, blockCount) = blockLayout(version: version, correction: correction)
        let total = rawDataModules(version: version) / 8
        let shortBlocks = blockCount - total % blockCount
        let shortDataLength = total / blockCount - ecPerBlock
        let generator = ReedSolomon.generator(degree: ecPerBlock)

        var dataBlocks: [[UInt8]] = []
        var ecBlocks: [[UInt8]] = []
        var offset = 0
        for index in 0..<blockCount {
            let length = shortDataLength + (index < shortBlocks ? 0 : 1)
            let block = Array(data[offset..<offset + length])
            offset += length
            dataBlocks.append(block)
            ecBlocks.append(ReedSolomon.remainder(of: block, generator: generator))
        }

        var message: [UInt8] = []
        message.reserveCapacity(total)
        for column in 0...shortDataLength {
            for block in dataBlocks where column < block.count {
                message.append(block[column])
            }
        }
        for column in 0..<ecPerBlock {
            for block in ecBlocks {
                message.append(block[column])
            }
        }
        return message
    }

    /// Reed–Solomon codes over GF(256) built on the primitive polynomial x⁸ + x⁴ + x³ + x² + 1 (0x11D), with the
    /// generator polynomial ∏ (x − αⁱ) for i in 0..<degree, as 7.5.2 prescribes.
    enum ReedSolomon {
        /// αⁱ for i in 0..<255.
        private static let exponents: [UInt8] = {
            var table = [UInt8](repeating: 0, count: 255)
            var value = 1
            for power in 0..<255 {
                table[power] = UInt8(value)
                value <<= 1
                if value & 0x100 != 0 {
                    value ^= 0x11D
                }
            }
            return table
        }()

        /// The i with αⁱ = value, for value in 1...255 (entry 0 is unused).
        private static let logarithms: [Int] = {
            var table = [Int](repeating: 0, count: 256)
            for (power, value) in exponents.enumerated() {
                table[Int(value)] = power
            }
            return table
        }()

        static func multiply(_ a: UInt8, _ b: UInt8) -> UInt8 {
            if a == 0 || b == 0 {
                return 0
            }
            return exponents[(logarithms[Int(a)] + logarithms[Int(b)]) % 255]
        }

        /// The generator's coefficients, highest power first; the leading coefficient is always 1.
        static func generator(degree: Int) -> [UInt8] {
            var polynomial: [UInt8] = [1]
            for root in 0..<degree {
                // Multiply by (x + αʳᵒᵒᵗ); in GF(2⁸) subtraction is addition.
                var product = [UInt8](repeating: 0, count: polynomial.count + 1)
                for (index, coefficient) in polynomial.enumerated() {
                    product[index] ^= coefficient
                    product[index + 1] ^= multiply(coefficient, exponents[root])
                }
                polynomial = product
            }
            return polynomial
        }

        /// The error-correction codewords: the remainder of data(x) · x^degree divided by the generator.
        static func remainder(of data: [UInt8], generator: [UInt8]) -> [UInt8] {
            let degree = generator.count - 1
            var remainder = [UInt8](repeating: 0, count: degree)
            guard degree > 0 else { return remainder }
            for byte in data {
                let factor = byte ^ remainder[0]
                remainder.removeFirst()
                remainder.append(0)
                for index in 0..<degree {
                    remainder[index] ^= multiply(generator[index + 1], factor)
                }
            }
            return remainder
        }
    }
}

// MARK: - The module matrix (6.3, 7.7–7.10)

extension QRCode {
    /// Centre row/column coordinates of the alignment patterns for versions 1...40 (ISO/IEC 18004 Annex E).
    /// Patterns sit at every pairing of these coordinates except the three that would overlap a finder.
    static let alignmentCenters: [[Int]] = [
        [], [6, 18], [6, 22], [6, 26], [6, 30], [6, 34],
        [6, 22, 38], [6, 24, 42], [6, 26, 46], [6, 28, 50], [6, 30, 54], [6, 32, 58], [6, 34, 62],
        [6, 26, 46, 66], [6, 26, 48, 70], [6, 26, 50, 74], [6, 30, 54, 78], [6, 30, 56, 82], [6, 30, 58, 86],
        [6, 34, 62, 90],
        [6, 28, 50, 72, 94], [6, 26, 50, 74, 98], [6, 30, 54, 78, 102], [6, 28, 54, 80, 106], [6, 32, 58, 84, 110],
        [6, 30, 58, 86, 114], [6, 34, 62, 90, 118],
        [6, 26, 50, 74, 98, 122], [6, 30, 54, 78, 102, 126], [6, 26, 52, 78, 104, 130], [6, 30, 56, 82, 108, 134],
        [6, 34, 60, 86, 112, 138], [6, 30, 58, 86, 114, 142], [6, 34, 62, 90, 118, 146],
        [6, 30, 54, 78, 102, 126, 150], [6, 24, 50, 76, 102, 128, 154], [6, 28, 54, 80, 106, 132, 158],
        [6, 32, 58, 84, 110, 136, 162], [6, 26, 54, 82, 110, 138, 166], [6, 30, 58, 86, 114, 142, 170],
    ]

    /// The 15-bit format information: 2 bits of correction level and 3 of mask, a BCH(15,5) remainder by the
    /// generator 0x537, XOR 0x5412 so that no combination is all light (7.9.1).
    static func formatBits(correction: Correction, mask: Int) -> Int {
        let level: Int
        switch correction {
        case .low: level = 0b01
        case .medium: level = 0b00
        case .quartile: level = 0b11
        case .high: level = 0b10
        }
        let data = level << 3 | mask
        return (data << 10 | bchRemainder(data << 10, generator: 0x537, degree: 10)) ^ 0x5412
    }

    /// The 18-bit version information: 6 bits of version and a BCH(18,6) remainder by the generator 0x1F25 (7.10).
    static func versionBits(version: Int) -> Int {
        version << 12 | bchRemainder(version << 12, generator: 0x1F25, degree: 12)
    }

    /// `value` modulo `generator` as polynomials over GF(2); `generator` has its top bit at `degree`.
    private static func bchRemainder(_ value: Int, generator: Int, degree: Int) -> Int {
        var remainder = value
        for bit in stride(from: degree + 5, through: degree, by: -1) where (remainder >> bit) & 1 == 1 {
            remainder ^= generator << (bit - degree)
        }
        return remainder
    }

    /// Whether mask pattern `mask` inverts the module in column `x`, row `y` (Table 10; i is the row, j the column).
    static func maskInverts(_ mask: Int, x: Int, y: Int) -> Bool {
        switch mask {
        case 0: (y + x) % 2 == 0
        case 1: y % 2 == 0
        case 2: x % 3 == 0
        case 3: (y + x) % 3 == 0
        case 4: (y / 2 + x / 3) % 2 == 0
        case 5: (y * x) % 2 + (y * x) % 3 == 0
        case 6: ((y * x) % 2 + (y * x) % 3) % 2 == 0
        default: ((y + x) % 2 + (y * x) % 3) % 2 == 0
        }
    }

    /// The symbol under construction: module colours plus which modules belong to function patterns (or the
    /// reserved format and version areas), which codeword placement skips and masking leaves alone.
    struct Matrix {
        let size: Int
        private(set) var dark: [Bool]
        private(set) var isFunction: [Bool]

        /// A matrix with finders, separators, timing and alignment patterns drawn and the format area, the version
        /// areas and the dark module reserved (light until drawn). Requires `1 <= version <= 40`.
        init(version: Int) {
            size = 17 + 4 * version
            dark = [Bool](repeating: false, count: size * size)
            isFunction = [Bool](repeating: false, count: size * size)

            // Timing patterns first; the finders drawn next overwrite their ends.
            for index in 0..<size {
                set(x: 6, y: index, dark: index % 2 == 0)
                set(x: index, y: 6, dark: index % 2 == 0)
            }
            drawFinder(centerX: 3, centerY: 3)
            drawFinder(centerX: size - 4, centerY: 3)
            drawFinder(centerX: 3, centerY: size - 4)

            let centers = alignmentCenters[version - 1]
            let last = centers.count - 1
            for (row, centerY) in centers.enumerated() {
                for (column, centerX) in centers.enumerated() {
                    let nearFinder = (row == 0 && column == 0) || (row == 0 && column == last)
                        || (row == last && column == 0)
                    if !nearFinder {
                        drawAlignment(centerX: centerX, centerY: centerY)
                    }
                }
            }

            // Reserve the format areas (and the dark module's place) next to the finders.
            for index in 0...8 where index != 6 {
                set(x: 8, y: index, dark: false)
                set(x: index, y: 8, dark: false)
            }
            for index in 0..<8 {
                set(x: size - 1 - index, y: 8, dark: false)
                set(x: 8, y: size - 1 - index, dark: false)
            }
            if version >= 7 {
                for long in 0..<6 {
                    for short in size - 11..<size - 8 {
                        set(x: short, y: long, dark: false)
                        set(x: long, y: short, dark: false)
                    }
                }
            }
        }

        func isDark(x: Int, y: Int) -> Bool {
            dark[y * size + x]
        }

        /// Colours a module and marks it as part of a function pattern.
        private mutating func set(x: Int, y: Int, dark value: Bool) {
            dark[y * size + x] = value
            isFunction[y * size + x] = true
        }

        /// A 7 × 7 finder with its one-module light separator, clipped to the symbol.
        private mutating func drawFinder(centerX: Int, centerY: Int) {
            for dy in -4...4 {
                for dx in -4...4 {
                    let x = centerX + dx
                    let y = centerY + dy
                    guard 0 <= x && x < size && 0 <= y && y < size else { continue }
                    let ring = max(abs(dx), abs(dy))
                    set(x: x, y: y, dark: ring != 2 && ring != 4)
                }
            }
        }

        /// A 5 × 5 alignment pattern: dark centre, light ring, dark ring.
        private mutating func drawAlignment(centerX: Int, centerY: Int) {
            for dy in -2...2 {
                for dx in -2...2 {
                    set(x: centerX + dx, y: centerY + dy, dark: max(abs(dx), abs(dy)) != 1)
                }
            }
        }

        /// Places the codewords' bits, most significant first, in two-module-wide columns from the bottom-right
        /// corner, going up and down in turn and stepping over the vertical timing pattern (7.7.3). Modules left
        /// over (the 0, 3, 4 or 7 remainder bits) stay light, as the standard's remainder bits are zeros.
        mutating func place(_ codewords: [UInt8]) {
            let bitCount = codewords.count * 8
            var bitIndex = 0
            var upward = true
            var right = size - 1
            while right >= 1 {
                if right == 6 {
                    // Column 6 is the vertical timing pattern; the pair to its left is columns 5 and 4.
                    right = 5
                }
                for step in 0..<size {
                    let y = upward ? size - 1 - step : step
                    for x in [right, right - 1] where !isFunction[y * size + x] && bitIndex < bitCount {
                        let byte = codewords[bitIndex / 8]
                        dark[y * size + x] = (byte >> (7 - bitIndex % 8)) & 1 == 1
                        bitIndex += 1
                    }
                }
                upward.toggle()
                right -= 2
            }
        }

        /// Inverts every non-function module the mask selects; applying the same mask again undoes it.
        mutating func applyMask(_ mask: Int) {
            for y in 0..<size {
                for x in 0..<size where !isFunction[y * size + x] && maskInverts(mask, x: x, y: y) {
                    dark[y * size + x].toggle()
                }
            }
        }

        /// The mask with the lowest penalty; on a tie the lower mask number.
        ///
        /// Evaluated on the symbol as it stands before format and version information and the dark module are
        /// written (7.8 masks first, 7.9 and 7.10 add that information afterwards). The standard leaves this open;
        /// segno evaluates this way, ZXing and some others evaluate with format information drawn, so their
        /// automatic choice can differ. Any mask gives a valid symbol: the choice only affects how easily it scans.
        func bestMask() -> Int {
            var best = 0
            var bestScore = Int.max
            for mask in 0..<8 {
                var candidate = self
                candidate.applyMask(mask)
                let score = candidate.penalty()
                if score < bestScore {
                    best = mask
                    bestScore = score
                }
            }
            return best
        }

        /// The penalty score of 7.8.3.1 (Table 11), all four rules.
        func penalty() -> Int {
            var score = 0
            for index in 0..<size {
                let row = (0..<size).map { dark[index * size + $0] }
                let column = (0..<size).map { dark[$0 * size + index] }
                score += Self.runPenalty(row) + Self.finderLikePenalty(row)
                score += Self.runPenalty(column) + Self.finderLikePenalty(column)
            }
            // Rule 2: 3 points for every 2 × 2 block of one colour (overlapping blocks each count, which scores an
            // m × n block 3 (m − 1)(n − 1) as the table states).
            for y in 0..<size - 1 {
                for x in 0..<size - 1 {
                    let colour = isDark(x: x, y: y)
                    if isDark(x: x + 1, y: y) == colour && isDark(x: x, y: y + 1) == colour
                        && isDark(x: x + 1, y: y + 1) == colour {
                        score += 3
                    }
                }
            }
            score += Self.balancePenalty(darkCount: dark.reduce(0) { $0 + ($1 ? 1 : 0) }, total: size * size)
            return score
        }

        /// Rule 4: 10 points for each full 5 % step the dark share is away from 50 %. Kept in integers, as
        /// |dark/total − 1/2| / (1/20) = |20·dark − 10·total| / total, so no rounding decides a boundary.
        /// Requires `total > 0`.
        static func balancePenalty(darkCount: Int, total: Int) -> Int {
            10 * (abs(20 * darkCount - 10 * total) / total)
        }

        /// Rule 1: a run of five or more modules of one colour in a line scores 3, plus 1 for each module past five.
        static func runPenalty(_ line: [Bool]) -> Int {
            var score = 0
            var runLength = 0
            for (index, module) in line.enumerated() {
                if index > 0 && module == line[index - 1] {
                    runLength += 1
                } else {
                    runLength = 1
                }
                let runEnds = index == line.count - 1 || line[index + 1] != module
                if runEnds && runLength >= 5 {
                    score += 3 + (runLength - 5)
                }
            }
            return score
        }

        /// Rule 3: 40 points for each dark–light–dark–dark–dark–light–dark (1:1:3:1:1) pattern in a line with four
        /// light modules on at least one side. The quiet zone counts as light, so a pattern may touch the edge.
        /// A module counts in at most one pattern: after a hit the search resumes past it, so a pattern lit on
        /// both sides scores once (the standard does not settle this; segno counts the same way).
        static func finderLikePenalty(_ line: [Bool]) -> Int {
            let pattern = [true, false, true, true, true, false, true]
            func lightSpan(_ range: Range<Int>) -> Bool {
                range.allSatisfy { $0 < 0 || $0 >= line.count || !line[$0] }
            }
            var score = 0
            var start = 0
            while start + pattern.count <= line.count {
                let matches = (0..<pattern.count).allSatisfy { line[start + $0] == pattern[$0] }
                if matches && (lightSpan(start - 4..<start) || lightSpan(start + 7..<start + 11)) {
                    score += 40
                    start += pattern.count
                } else {
                    start += 1
                }
            }
            return score
        }

        /// Writes both copies of the format information (7.9.1, Figure 25); bit 0 is the least significant.
        mutating func drawFormatInformation(correction: Correction, mask: Int) {
            let bits = formatBits(correction: correction, mask: mask)
            func bit(_ index: Int) -> Bool { (bits >> index) & 1 == 1 }
            // Around the top-left finder: up column 8 (skipping the timing row), then left along row 8.
            for index in 0...5 {
                set(x: 8, y: index, dark: bit(index))
            }
            set(x: 8, y: 7, dark: bit(6))
            set(x: 8, y: 8, dark: bit(7))
            set(x: 7, y: 8, dark: bit(8))
            for index in 9...14 {
                set(x: 14 - index, y: 8, dark: bit(index))
            }
            // The second copy: bits 0...7 along row 8 under the top-right finder, 8...14 down column 8 beside the
            // bottom-left one.
            for index in 0...7 {
                set(x: size - 1 - index, y: 8, dark: bit(index))
            }
            for index in 8...14 {
                set(x: 8, y: size - 15 + index, dark: bit(index))
            }
        }

        /// Writes both 6 × 3 copies of the version information from version 7 on (7.10, Figure 27); none below.
        mutating func drawVersionInformation(version: Int) {
            guard version >= 7 else { return }
            let bits = versionBits(version: version)
            for index in 0..<18 {
                let value = (bits >> index) & 1 == 1
                let long = index / 3
                let short = size - 11 + index % 3
                set(x: short, y: long, dark: value)
                set(x: long, y: short, dark: value)
            }
        }

        /// The single dark module beside the bottom-left format area, present in every symbol (6.3.7 note).
        mutating func drawDarkModule() {
            set(x: 8, y: size - 8, dark: true)
        }
    }
}

// MARK: - SVG

extension QRCode {
    /// Text safe in an XML attribute value: the five markup characters escaped, and the control characters XML 1.0
    /// cannot carry at all (even escaped) dropped.
    static func xmlEscaped(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&apos;"
            case "\t", "\n", "\r": escaped.unicodeScalars.append(scalar)
            default:
                let value = scalar.value
                let forbidden = value < 0x20 || value == 0xFFFE || value == 0xFFFF
                if !forbidden {
                    escaped.unicodeScalars.append(scalar)
                }
            }
        }
        return escaped
    }
}
