import Foundation
import Testing

@testable import CreditGateCore

/// Known-answer matrices from an independent encoder, segno 1.6.6 (https://pypi.org/project/segno/), with one
/// upstream bug patched: segno appends eight zero bits when the bit stream already ends on a codeword boundary
/// (heuer/segno issue #148), which byte mode always does, where ISO/IEC 18004 7.4.10 adds none; unpatched it puts
/// a spurious 0x00 before the pad codewords. Reproduce with `pip install segno==1.6.6`, then in Python:
///
///     import segno, segno.encoder as enc
///     def pad(buff, version, length):
///         if length % 8:
///             buff.extend([0] * (8 - length % 8))
///     enc.write_padding_bits = pad
///     qr = segno.make(DATA, error=E, version=V, mask=M, mode='byte', boost_error=False, micro=False)
///     rows = [''.join('#' if b else '.' for b in r) for r in qr.matrix]
///
/// with DATA, E, V, M as given above each vector (`None` lets segno choose). `#` is dark; no quiet zone.
@Suite struct QRCodeKnownAnswerTests {
    static func rows(_ code: QRCode) -> [String] {
        (0..<code.size).map { y in String((0..<code.size).map { x in code.isDark(x: x, y: y) ? "#" : "." }) }
    }

    /// DATA = b'CreditGate', E = 'm', V = 1, M = 3.
    @Test func shortTextAtVersion1MediumMask3() throws {
        let code = try QRCode.encode(Array("CreditGate".utf8), correction: .medium, version: 1, mask: 3)
        #expect(code.version == 1 && code.mask == 3)
        #expect(Self.rows(code) == Self.creditGateVersion1M)
    }

    /// DATA = the URI below as bytes, E = 'm', V = None, M = None: segno too chooses version 8 and mask 2.
    @Test func otpauthURIAtAutomaticSettings() throws {
        let uri = "otpauth://totp/CreditGate:E1001?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
            + "&issuer=CreditGate&algorithm=SHA1&digits=6&period=30"
        let code = try QRCode.encode(Array(uri.utf8))
        #expect(code.version == 8 && code.mask == 2)
        #expect(Self.rows(code) == Self.otpauthAutomatic)
    }

    /// DATA = b'https://creditgate.example/enrol?ticket=7Q2XK9', E = 'h', V = 10, M = 7: a 16-bit character count,
    /// version information, and eight blocks of two lengths (6 × 15 and 2 × 16 data codewords).
    @Test func urlAtVersion10HighMask7() throws {
        let url = "https://creditgate.example/enrol?ticket=7Q2XK9"
        let code = try QRCode.encode(Array(url.utf8), correction: .high, version: 10, mask: 7)
        #expect(code.version == 10 && code.mask == 7)
        #expect(Self.rows(code) == Self.version10HighMask7)
    }

    /// Version and mask segno chooses automatically (same call with E as given, V = None, M = None, then
    /// `qr.version, qr.mask`): checks the penalty evaluation as a whole (single rules are tested on their own below).
    @Test(arguments: Self.automaticChoices)
    func automaticChoiceMatchesSegno(uri: String, correction: QRCode.Correction, version: Int, mask: Int) throws {
        let code = try QRCode.encode(Array(uri.utf8), correction: correction)
        #expect(code.version == version)
        #expect(code.mask == mask)
    }

    static let automaticChoices: [(uri: String, correction: QRCode.Correction, version: Int, mask: Int)] = [
        ("otpauth://totp/CreditGate:E1000?secret=&issuer=CreditGate", .low, 4, 1),
        ("otpauth://totp/CreditGate:E1037?secret=JBS&issuer=CreditGate", .medium, 4, 4),
        ("otpauth://totp/CreditGate:E1074?secret=JBSWY3&issuer=CreditGate", .quartile, 6, 4),
        ("otpauth://totp/CreditGate:E1111?secret=JBSWY3DPE&issuer=CreditGate", .high, 8, 2),
        ("otpauth://totp/CreditGate:E1148?secret=JBSWY3DPEHPK&issuer=CreditGate", .low, 4, 5),
        ("otpauth://totp/CreditGate:E1185?secret=JBSWY3DPEHPK3PX&issuer=CreditGate", .medium, 5, 4),
        ("otpauth://totp/CreditGate:E1222?secret=J&issuer=CreditGate", .quartile, 5, 5),
        ("otpauth://totp/CreditGate:E1259?secret=JBSW&issuer=CreditGate", .high, 7, 4),
        ("otpauth://totp/CreditGate:E1296?secret=JBSWY3D&issuer=CreditGate", .low, 4, 1),
        ("otpauth://totp/CreditGate:E1333?secret=JBSWY3DPEH&issuer=CreditGate", .medium, 5, 4),
        ("otpauth://totp/CreditGate:E1370?secret=JBSWY3DPEHPK3&issuer=CreditGate", .quartile, 6, 2),
        ("otpauth://totp/CreditGate:E1407?secret=JBSWY3DPEHPK3PXP&issuer=CreditGate", .high, 8, 2),
        ("otpauth://totp/CreditGate:E1444?secret=JB&issuer=CreditGate", .low, 4, 1),
        ("otpauth://totp/CreditGate:E1481?secret=JBSWY&issuer=CreditGate", .medium, 4, 4),
        ("otpauth://totp/CreditGate:E1518?secret=JBSWY3DP&issuer=CreditGate", .quartile, 6, 2),
        ("otpauth://totp/CreditGate:E1555?secret=JBSWY3DPEHP&issuer=CreditGate", .high, 8, 3),
        ("otpauth://totp/CreditGate:E1592?secret=JBSWY3DPEHPK3P&issuer=CreditGate", .low, 4, 5),
        ("otpauth://totp/CreditGate:E1629?secret=&issuer=CreditGate", .medium, 4, 4),
        ("otpauth://totp/CreditGate:E1666?secret=JBS&issuer=CreditGate", .quartile, 5, 4),
        ("otpauth://totp/CreditGate:E1703?secret=JBSWY3&issuer=CreditGate", .high, 7, 3),
    ]

    static let creditGateVersion1M: [String] =
        [
            "#######.#.#...#######",
            "#.....#.###...#.....#",
            "#.###.#..#..#.#.###.#",
            "#.###.#.#...#.#.###.#",
            "#.###.#..##...#.###.#",
            "#.....#...#...#.....#",
            "#######.#.#.#.#######",
            "........##...........",
            "#.##.###..#...#..#.##",
            ".#.#.#....#.#..##.###",
            "##.#.####...####.####",
            "#...#.....#.#..#.#..#",
            "..###.######.##......",
            "........#.#..##.....#",
            "#######.###..#.###...",
            "#.....#.#..###.#.##.#",
            "#.###.#..#.#...#.##..",
            "#.###.#.##.....#.#.#.",
            "#.###.#.####.#....#..",
            "#.....#..####.##....#",
            "#######.######....#..",
        ]

    static let otpauthAutomatic: [String] =
        [
            "#######....###...#.##..#.#####..#.#..#..#.#######",
            "#.....#....##.##..#...##....#.####.#.####.#.....#",
            "#.###.#.##..##..##.####.#...###.##.....##.#.###.#",
            "#.###.#.#.#.#.#####..#.#.#.#.#.#..####.#..#.###.#",
            "#.###.#.#.##..#...#########..##....###....#.###.#",
            "#.....#.#....##...#.#.#...##...#..#.###...#.....#",
            "#######.#.#.#.#.#.#.#.#.#.#.#.#.#.#.#.#.#.#######",
            "........#.#....##..####...#....#.#####..#........",
            "#.#####.....####....#.#####..###.#.###.#..#####..",
            ".##....######.#####........#..###...##..#.#.....#",
            ".#....#.#..#....##..#.##.#####.#....#..###.#...##",
            ".....#....##.##.##.#........#.....#.##..###.#..##",
            ".#....####.###..####.####..#..##.#.#####..##..##.",
            "....##.###..#.#.###..#.###...##....#.#...##.#..#.",
            "...##.##.#...#....##...........#.###..##.......##",
            "###..#...#..###..##..#.##.....##.#.##......#...#.",
            "#.....#.#..###....###..###.#.##.....##.#.###..##.",
            "#..#.#.####.#.##.##..#..#.....##.#.##.....###....",
            ".##.#.##.##......###..#.#.##.##.....##.#.#.#.#.##",
            "#..#.#....#.##...#.##..#...#..####...#.#.####...#",
            ".#..######.#.....#.####.##...###.####..#####..#.#",
            "#####.....#...###.##.#.##..#.###.....#.#.###.##..",
            "#..######.###.##...###########..#####.#.#########",
            "..###...#.#..###.##..##...##..##.#.##.#.#...#..##",
            "..#.#.#.####.....##.###.#.#..#.#.#.##...#.#.##.##",
            "#.#.#...#.#...###..#.##...#..####..#.#..#...##.#.",
            "##..######.##.###...#.#####...#..#..##.########.#",
            "..##.#.#...#....###.....##.#.#.##......#...#.#..#",
            "...####.###.###......#.##....###..#.##.#.#..#.###",
            "##..#...#.###..#..#####.#..##.##....##.#.###.#...",
            ".#.##.######.#.##.#.#.###..###..###.#####.#######",
            "#.#..#.#...####.##.##.#.####.#....#.###.##.##..#.",
            "#..##.#.#..#...######.#...#.#..#####..###..####..",
            "#.####.####.#.#...#....#######..#.#..###..##.#.#.",
            "###...#.#####..########.#...#.####.#....#.####.##",
            ".#..##...#...#.###...#.#####.##.#....#####.......",
            "......##..#..#.##.########....##....####..##.####",
            "..##...#..##.#.#...#.####.#.###.#..###.###.#.#.#.",
            ".#...##..#..#......#..##.#.#.....#######.########",
            ".###...#.....#...#..##..#.##.###.###......#....#.",
            "###...##..##.##...###.#####...##.##.#..######...#",
            "........##..###....#..#...##.##.#..#.#.##...#.##.",
            "#######..##.##.#.######.#.##.##..#......#.#.#..##",
            "#.....#.#..####..#...##...#.##..#.##.#.##...#..##",
            "#.###.#.###...###.##..######.###..###...######.##",
            "#.###.#.#.#....####..###.##..##.....##..########.",
            "#.###.#.##.#..#.#..#....#.#..###..###.##..##...##",
            "#.....#..#.###..#....#..###...##.#.##...####....#",
            "#######.#..#.......##...#..#.##.....##.#.....####",
        ]

    static let version10HighMask7: [String] =
        [
            "#######.#.###..#.#.#.##.##.#....##.#..#######.##..#######",
            "#.....#.#..#..#.#..###...#####.##..###.##.###..#..#.....#",
            "#.###.#...#..#.##..#...##.#.##.##....##.#.#.#.##..#.###.#",
            "#.###.#.#..#.##...##....#.#.#..#.#..###.#....#.#..#.###.#",
            "#.###.#.#..##...##.#.#.#.#######.###....###....#..#.###.#",
            "#.....#.#######.##.#####.##...#.#.#.###.###...#...#.....#",
            "#######.#.#.#.#.#.#.#.#.#.#.#.#.#.#.#.#.#.#.#.#.#.#######",
            "..........#.#.#.....#.....#...#..#.#.##.#.#..###.........",
            "...#..#..#..##....#..#.########.#.#.#.#.##.######..###.##",
            "#.#..#...#.##.###.###.#.###.#.#.#.#.#.#...####..#..#..##.",
            "......#...##...#....##.###..#.#..#...##...#..#...#.#....#",
            "##..#...#.##..###.##.####.##.#.##.#.#.#....###.##...#####",
            ".#....##...#..#...#..#.###.#.#..###...######.#.##.###.#..",
            "##..##...###..##....##..###..##.##..##...#..####...###.##",
            ".####.##.#........##.........#.#.#.#..###.####..#####.##.",
            "##..##..#..#.###.#.#.#.##.#.#..#...#..###.#....#..##.#.##",
            "#.###.#..##.##..#..######.##.....####......###..##.####..",
            "#.##...#..##..###.#.#####..##....####.#..##.#..##..#####.",
            "#..#####.#.##.#..####..#....##.#.#.#...##.#.##....##...##",
            ".##....#..##..######.#####.#.....#.##..#.#...#..#..##.#..",
            "##..#.##...##.###.####..#..###.##.##.#.##.######.#.#.###.",
            "#...#...###......#.#.####..#.#..#.##.#...#.##....#.##.###",
            "##....#..##.#..###.#.#..##..##...####..#.##...#.#.###..##",
            ".#####...#.#.#.##.#.##...###.#...#..........##.#.....####",
            "#####.######...##...#...####.###..#.#...###.###.....#.#.#",
            "#.#.#...##.#.#.##.#.#...##.....########.##.#.##..##.#.##.",
            "...######.#...#.#.#...###.#####.###.#...#.#..#########...",
            ".####...####.#.#....#..##.#...###.#..#...#.##.#.#...#....",
            "..###.#.##.###.#.#.#..#.#.#.#.##...##.#..#..#.###.#.#..##",
            "#.###...##...#..#.#.#..####...##.#.####..#....###...##..#",
            "#########.##.##.#........########..#.##.##....########..#",
            "..##.#...#..########....#.#.#...#..#.#####..###.#..##..#.",
            "#..##.###.#.#.#.....#..##.#.##.##.###.##.###.####...##...",
            "##......##.#..#.###...#.#.#.######.#..###....#.#....##.#.",
            "#.######...#....#..#......#..####.##.####..###..###.#....",
            "..###..#.######...#.#.#.##.#...##....##..#.#..#.#.#.##.#.",
            "##..#.##..###.####...#.#.#..##.####.###.#.#.#..##.#.#..#.",
            "...###..###.#...#######.#..###.##.##....##.##...##.#####.",
            "#####.##.#.##...##..##..##.#.####.#..#..#..##.#.#..##....",
            "##..##..#..#####.#..#..#...#....#.#.##.#.#....###..###...",
            ".#....#...##.#####.#.##.#.#.####...##.#######.###.#.##.##",
            "#####..#.#.##..###....#.....######..#####...#.#####.....#",
            "##.#..#####.#.#####.#...##.#..#.....####.##.#.##.###.####",
            "#...##.##.#..###########.#####..##..###...##.#.#.##..#..#",
            "..##.##.#...#....###.#.#####.###..###.#.##.....#.#.#..#..",
            "###.#..##.#...##..#####....#.#....##..#...#..#.#......###",
            "#.#..##.#...####...#...####.#...###..####.###.#.####....#",
            "#####..#####..#.#.######.#...#...#..#..##..####.##.#.##.#",
            "......######.#...##..##.#######..##.#..#####..#######.###",
            "........#...##.###...#....#...###.#..#####..#.###...##.##",
            "#######..#.....##.##..#.###.#.####.#...#..###...#.#.#.##.",
            "#.....#..#......##.#.##..##...#.###.#.###.#..#..#...##...",
            "#.###.#..##....#.#.#.#.##.######...#####...#############.",
            "#.###.#.##.##.#.#######.###.##...#..#######.#..#....#..##",
            "#.###.#...##.#....#......#..#.##...#....#.#.#...##.####.#",
            "#.....#..####..#.###...#..##..#.##.##.###.#......#.###...",
            "#######..#.##.#......#.##.####.#.#.##.##.#.##..####...##.",
        ]
}

@Suite struct QRCodeStructureTests {
    @Test func sizeIs17Plus4TimesVersion() throws {
        for version in 1...40 {
            let code = try QRCode.encode([0x41], correction: .low, version: version, mask: 0)
            #expect(code.version == version)
            #expect(code.size == 17 + 4 * version)
        }
    }

    /// Byte-mode capacities of ISO/IEC 18004 Table 7, an independent check on the block tables: the largest input
    /// of each listed version fits it, one byte more needs the next version.
    @Test(arguments: [
        (1, QRCode.Correction.low, 17), (1, .medium, 14), (1, .quartile, 11), (1, .high, 7),
        (2, .low, 32), (2, .medium, 26), (2, .quartile, 20), (2, .high, 14),
        (7, .low, 154), (7, .medium, 122), (7, .quartile, 86), (7, .high, 64),
        (9, .low, 230), (9, .medium, 180), (9, .quartile, 130), (9, .high, 98),
        (10, .low, 271), (10, .medium, 213), (10, .quartile, 151), (10, .high, 119),
        (27, .low, 1465), (27, .medium, 1125), (27, .quartile, 805), (27, .high, 625),
        (39, .low, 2809), (39, .medium, 2213), (39, .quartile, 1579), (39, .high, 1219),
    ])
    func smallestVersionIsChosen(version: Int, correction: QRCode.Correction, capacity: Int) throws {
        let full = try QRCode.encode([UInt8](repeating: 0x61, count: capacity), correction: correction)
        #expect(full.version == version)
        let over = try QRCode.encode([UInt8](repeating: 0x61, count: capacity + 1), correction: correction)
        #expect(over.version == version + 1)
    }

    @Test func emptyInputIsVersion1() throws {
        #expect(try QRCode.encode([]).version == 1)
    }

    @Test func tooLongInputThrows() throws {
        #expect(throws: QRCodeError.dataTooLong) {
            try QRCode.encode([UInt8](repeating: 0x61, count: 3000), correction: .high)
        }
        // Version 40 capacities: the maximum fits, one byte more does not.
        #expect(try QRCode.encode([UInt8](repeating: 0x61, count: 2953), correction: .low).version == 40)
        #expect(throws: QRCodeError.dataTooLong) {
            try QRCode.encode([UInt8](repeating: 0x61, count: 2954), correction: .low)
        }
        #expect(try QRCode.encode([UInt8](repeating: 0x61, count: 1273), correction: .high).version == 40)
        #expect(throws: QRCodeError.dataTooLong) {
            try QRCode.encode([UInt8](repeating: 0x61, count: 1274), correction: .high)
        }
        // A forced version too small for the data.
        #expect(throws: QRCodeError.dataTooLong) {
            try QRCode.encode([UInt8](repeating: 0x61, count: 15), correction: .medium, version: 1, mask: nil)
        }
    }

    @Test func forcedMaskIsUsedAndChangesTheSymbol() throws {
        let bytes = Array("CreditGate".utf8)
        var seen: [QRCode] = []
        for mask in 0...7 {
            let code = try QRCode.encode(bytes, correction: .quartile, version: 2, mask: mask)
            #expect(code.mask == mask)
            #expect(!seen.contains(code))
            seen.append(code)
        }
        #expect(try QRCode.encode(bytes, correction: .quartile, version: 2, mask: 5) == seen[5])
    }

    /// Format information from the standard's examples: level M, mask 0 is the XOR mask itself (all-zero data);
    /// level L, mask 0 is 111011111000100 and level H, mask 7 is 000100000111011 (Table C.1); version 7 is
    /// 000111110010010100 and version 40 is 101000110001101001 (Table D.1).
    @Test func formatAndVersionInformationBits() {
        #expect(QRCode.formatBits(correction: .medium, mask: 0) == 0x5412)
        #expect(QRCode.formatBits(correction: .low, mask: 0) == 0b111_0111_1100_0100)
        #expect(QRCode.formatBits(correction: .high, mask: 7) == 0b000_1000_0011_1011)
        #expect(QRCode.versionBits(version: 7) == 0b00_0111_1100_1001_0100)
        #expect(QRCode.versionBits(version: 40) == 0b10_1000_1100_0110_1001)
    }

    /// Penalty rules 1 and 3 on hand-made lines (1 = dark): the quiet zone beyond the ends counts as light.
    @Test func penaltyRulesOnSingleLines() {
        func line(_ text: String) -> [Bool] { text.map { $0 == "1" } }
        #expect(QRCode.Matrix.runPenalty(line("10101")) == 0)
        #expect(QRCode.Matrix.runPenalty(line("0111101")) == 0)
        #expect(QRCode.Matrix.runPenalty(line("0111110")) == 3)
        #expect(QRCode.Matrix.runPenalty(line("1111111")) == 5)
        #expect(QRCode.Matrix.runPenalty(line("000001111110")) == 3 + 4)
        #expect(QRCode.Matrix.finderLikePenalty(line("1011101")) == 40)
        #expect(QRCode.Matrix.finderLikePenalty(line("000010111011")) == 40)
        #expect(QRCode.Matrix.finderLikePenalty(line("110111010000")) == 40)
        #expect(QRCode.Matrix.finderLikePenalty(line("000010111010000")) == 40)
        #expect(QRCode.Matrix.finderLikePenalty(line("110111011")) == 0)
        #expect(QRCode.Matrix.finderLikePenalty(line("1101110100101110111")) == 0)
        #expect(QRCode.Matrix.finderLikePenalty(line("10111010000101110100001011101")) == 120)
        // Two patterns sharing modules: the first counts and the search resumes after it (segno's convention).
        #expect(QRCode.Matrix.finderLikePenalty(line("0000101110111010000")) == 40)
    }

    @Test func penaltyRule4CountsWhole5PercentSteps() {
        #expect(QRCode.Matrix.balancePenalty(darkCount: 50, total: 100) == 0)
        #expect(QRCode.Matrix.balancePenalty(darkCount: 54, total: 100) == 0)
        #expect(QRCode.Matrix.balancePenalty(darkCount: 55, total: 100) == 10)
        #expect(QRCode.Matrix.balancePenalty(darkCount: 39, total: 100) == 20)
        #expect(QRCode.Matrix.balancePenalty(darkCount: 0, total: 441) == 100)
        #expect(QRCode.Matrix.balancePenalty(darkCount: 441, total: 441) == 100)
    }

    /// Reads both copies of the format information and (version 7 up) the version information back out of whole
    /// symbols, bit 0 first, in the order of ISO/IEC 18004 Figures 25 and 27.
    @Test func formatAndVersionInformationReadBack() throws {
        for (version, correction) in [(3, QRCode.Correction.low), (7, .medium), (32, .quartile), (40, .high)] {
            for mask in [0, 5] {
                let code = try QRCode.encode([0x41], correction: correction, version: version, mask: mask)
                let n = code.size
                let first = (0...5).map { (8, $0) } + [(8, 7), (8, 8), (7, 8)] + (9...14).map { (14 - $0, 8) }
                let second = (0...7).map { (n - 1 - $0, 8) } + (8...14).map { (8, n - 15 + $0) }
                func read(_ positions: [(x: Int, y: Int)]) -> Int {
                    var bits = 0
                    for (index, position) in positions.enumerated() where code.isDark(x: position.x, y: position.y) {
                        bits |= 1 << index
                    }
                    return bits
                }
                let format = QRCode.formatBits(correction: correction, mask: mask)
                #expect(read(first) == format, "version \(version)")
                #expect(read(second) == format, "version \(version)")
                #expect(code.isDark(x: 8, y: n - 8), "dark module")
                guard version >= 7 else { continue }
                let topRight = (0..<18).map { (x: n - 11 + $0 % 3, y: $0 / 3) }
                let bottomLeft = topRight.map { (x: $0.y, y: $0.x) }
                #expect(read(topRight) == QRCode.versionBits(version: version))
                #expect(read(bottomLeft) == QRCode.versionBits(version: version))
            }
        }
    }

    /// The module-count formula that sizes every version must agree with the matrix actually drawn.
    @Test func rawDataModulesMatchTheDrawnMatrix() {
        for version in 1...40 {
            let matrix = QRCode.Matrix(version: version)
            let free = matrix.isFunction.filter { !$0 }.count
            #expect(QRCode.rawDataModules(version: version) == free, "version \(version)")
        }
    }

    /// Reed–Solomon on the standard's worked example, 01234567 in numeric mode at 1-M (ISO/IEC 18004 Annex I).
    @Test func reedSolomonKnownAnswer() {
        let data: [UInt8] = [0x10, 0x20, 0x0C, 0x56, 0x61, 0x80, 0xEC, 0x11, 0xEC, 0x11, 0xEC, 0x11, 0xEC, 0x11, 0xEC, 0x11]
        let ec = QRCode.ReedSolomon.remainder(of: data, generator: QRCode.ReedSolomon.generator(degree: 10))
        #expect(ec == [0xA5, 0x24, 0xD4, 0xC1, 0xED, 0x36, 0xC7, 0x87, 0x2C, 0x55])
    }
}

@Suite struct QRCodeSVGTests {
    let code: QRCode

    init() throws {
        code = try QRCode.encode(Array("otpauth://totp/CreditGate:E1001?secret=JBSWY3DPEHPK3PXP".utf8))
    }

    @Test func oneEscapedPathAndNoStyle() {
        let svg = code.svg(label: #"Scan <this> & "enrol" it's"#)
        #expect(svg.hasPrefix("<svg ") && svg.hasSuffix("</svg>"))
        #expect(svg.components(separatedBy: "<path").count == 2)
        #expect(svg.contains(#"aria-label="Scan &lt;this&gt; &amp; &quot;enrol&quot; it&apos;s""#))
        #expect(!svg.contains("<this>"))
        #expect(!svg.lowercased().contains("style"))
        #expect(svg.contains(#"role="img""#))
        #expect(svg.contains(#"shape-rendering="crispEdges""#))
        #expect(svg.contains(##"fill="#fff""##) && svg.contains(##"fill="#000""##))
    }

    @Test func viewBoxIncludesTheQuietZone() {
        let extent = code.size + 8
        #expect(code.svg(label: "x").contains(#"viewBox="0 0 \#(extent) \#(extent)""#))
        #expect(code.svg(quietZone: 0, label: "x").contains(#"viewBox="0 0 \#(code.size) \#(code.size)""#))
    }

    /// Redraws the path (only `M x y`, `h n`, `v 1`, `h -n`, `z`) and compares it with the modules, so a wrong offset
    /// or a lost run fails.
    @Test func pathDrawsExactlyTheDarkModules() throws {
        let quietZone = 3
        let svg = code.svg(quietZone: quietZone, label: "x")
        let start = try #require(svg.range(of: #" d=""#))
        let end = try #require(svg[start.upperBound...].firstIndex(of: "\""))
        let d = svg[start.upperBound..<end]
        #expect(d.allSatisfy { "0123456789 -Mhvz".contains($0) })

        var drawn = Set<[Int]>()
        for command in d.split(separator: "z") {
            // "M{x} {y}h{run}v1h-{run}"
            let parts = command.dropFirst().split(whereSeparator: { " hv".contains($0) })
            let numbers = parts.compactMap { Int($0) }
            try #require(numbers.count == 5 && numbers[3] == 1 && numbers[4] == -numbers[2], "\(command)")
            let (x, y, run) = (numbers[0], numbers[1], numbers[2])
            for dx in 0..<run {
                drawn.insert([x + dx - quietZone, y - quietZone])
            }
        }
        var dark = Set<[Int]>()
        for y in 0..<code.size {
            for x in 0..<code.size where code.isDark(x: x, y: y) {
                dark.insert([x, y])
            }
        }
        #expect(drawn == dark)
    }

    @Test func controlCharactersAreDroppedFromTheLabel() {
        #expect(QRCode.xmlEscaped("a\u{0}b\u{1B}c\td") == "abc\td")
    }
}
