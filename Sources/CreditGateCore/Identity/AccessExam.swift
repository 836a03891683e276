import Foundation

/// Text in both languages, as stored in the question bank.
public struct BilingualText: Codable, Sendable, Equatable, Hashable {
    public let zh: String
    public let en: String

    public init(zh: String, en: String) {
        self.zh = zh
        self.en = en
    }

    public func text(in language: Language) -> String {
        language == .zhCN ? zh : en
    }
}

/// 准入测试题库: the access exam's question bank, imported from a file in the
/// `creditgate-question-bank/1` format (see `docs/ACCESS.md`).
public struct QuestionBank: Codable, Sendable, Equatable {
    public struct Question: Codable, Sendable, Equatable, Identifiable {
        public let id: String
        public let topic: String
        public let reference: BilingualText
        public let prompt: BilingualText
        public let options: [BilingualText]
        /// The 0-based index of the correct option; -1 in a copy shown to a candidate.
        public let answer: Int

        public init(id: String, topic: String, reference: BilingualText, prompt: BilingualText, options: [BilingualText], answer: Int) {
            self.id = id
            self.topic = topic
            self.reference = reference
            self.prompt = prompt
            self.options = options
            self.answer = answer
        }
    }

    public let format: String
    public let title: BilingualText
    public let questions: [Question]

    public init(format: String, title: BilingualText, questions: [Question]) {
        self.format = format
        self.title = title
        self.questions = questions
    }

    public static let formatName = "creditgate-question-bank/1"

    /// Why a bank file is refused; each case is a catalogue key.
    public enum Problem: String, Error, Sendable {
        case unreadable = "exam_bank_unreadable"
        case wrongFormat = "exam_bank_wrong_format"
        case duplicateID = "exam_bank_duplicate_id"
        case badQuestion = "exam_bank_bad_question"
        case tooFewQuestions = "exam_bank_too_few"
    }

    /// Decodes and checks a bank: the format name, unique IDs, two to six non-empty options per question, an answer
    /// that names one of them, and at least `minimumQuestions` questions (a paper must be drawable).
    public static func parse(_ data: Data, minimumQuestions: Int) throws(Problem) -> QuestionBank {
        let bank: QuestionBank
        do {
            bank = try JSONDecoder().decode(QuestionBank.self, from: data)
        } catch {
            throw .unreadable
        }
        guard bank.format == formatName else { throw .wrongFormat }
        guard Set(bank.questions.map(\.id)).count == bank.questions.count else { throw .duplicateID }
        for question in bank.questions {
            let texts = [question.prompt] + question.options
            guard !question.id.isEmpty, question.id.count <= 32, (2...6).contains(question.options.count),
                  question.options.indices.contains(question.answer),
                  texts.allSatisfy({ !$0.zh.isEmpty && !$0.en.isEmpty })
            else { throw .badQuestion }
        }
        guard bank.questions.count >= minimumQuestions else { throw .tooFewQuestions }
        return bank
    }
}

/// The exam's rules, from policy: how many questions, how long, and the pass mark out of 100. A re-application
/// after a suspension is held to the stricter mark.
public struct ExamPolicy: Sendable, Equatable {
    public var questionsPerPaper: Int
    public var timeLimit: TimeInterval
    public var passMark: Int
    public var strictPassMark: Int
    /// Late answers within this margin still count (a slow network at the last second is not cheating).
    public var submissionGrace: TimeInterval

    public init(questionsPerPaper: Int = 20, timeLimit: TimeInterval = 30 * 60, passMark: Int = 90, strictPassMark: Int = 95,
                submissionGrace: TimeInterval = 30) {
        self.questionsPerPaper = questionsPerPaper
        self.timeLimit = timeLimit
        self.passMark = passMark
        self.strictPassMark = strictPassMark
        self.submissionGrace = submissionGrace
    }
}

/// One drawn paper: the questions in their random order, and for each the order its options are shown in. What
/// the candidate sees is fixed when the attempt starts and stored with it, so the marking is reproducible.
public struct ExamPaper: Codable, Sendable, Equatable {
    public struct Item: Codable, Sendable, Equatable {
        public let questionID: String
        /// `optionOrder[i]` is the bank index of the option shown in position `i`.
        public let optionOrder: [Int]

        public init(questionID: String, optionOrder: [Int]) {
            self.questionID = questionID
            self.optionOrder = optionOrder
        }
    }

    public let items: [Item]

    public init(items: [Item]) {
        self.items = items
    }

    /// Draws `policy.questionsPerPaper` distinct questions (or all, if the bank is smaller) and shuffles each one's
    /// options. The generator is a parameter so tests can fix it.
    public static func draw(from bank: QuestionBank, count: Int, using generator: inout some RandomNumberGenerator) -> ExamPaper {
        let chosen = bank.questions.shuffled(using: &generator).prefix(count)
        return ExamPaper(items: chosen.map { question in
            Item(questionID: question.id, optionOrder: Array(question.options.indices).shuffled(using: &generator))
        })
    }

    /// The score out of 100 for the positions the candidate chose (`answers[questionID]` = shown position). A
    /// question missing from the bank (removed since) counts as wrong for nobody: it is left out of the total.
    public func score(answers: [String: Int], bank: QuestionBank) -> (score: Int, correct: Int, total: Int) {
        let questions = Dictionary(bank.questions.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var correct = 0, total = 0
        for item in items {
            guard let question = questions[item.questionID] else { continue }
            total += 1
            if let shown = answers[item.questionID], item.optionOrder.indices.contains(shown),
               item.optionOrder[shown] == question.answer {
                correct += 1
            }
        }
        guard total > 0 else { return (0, 0, 0) }
        return (Int((Double(correct) * 100 / Double(total)).rounded(.down)), correct, total)
    }
}

/// The verdict on a submitted attempt.
public struct ExamOutcome: Sendable, Equatable {
    public let score: Int
    public let passMark: Int
    public let passed: Bool
    /// Submitted after the time limit and its grace: failed whatever the answers.
    public let late: Bool

    public static func judge(score: Int, passMark: Int, startedAt: Date, submittedAt: Date, policy: ExamPolicy) -> ExamOutcome {
        let late = submittedAt.timeIntervalSince(startedAt) > policy.timeLimit + policy.submissionGrace
        return ExamOutcome(score: score, passMark: passMark, passed: !late && score >= passMark, late: late)
    }
}
