import Foundation

/// Asks a yes/no question on the controlling terminal.
enum Confirmation {
    /// True only for an answer starting with y/Y typed on the terminal. Nil when there is no terminal.
    static func ask(_ question: String) -> Bool? {
        guard let tty = FileHandle(forUpdatingAtPath: "/dev/tty") else { return nil }
        defer { try? tty.close() }
        tty.write(Data("\(TerminalText.escaped(question)) [y/N] ".utf8))
        var answer = [UInt8]()
        while let chunk = try? tty.read(upToCount: 1), let byte = chunk.first, byte != UInt8(ascii: "\n") {
            answer.append(byte)
            if answer.count > 64 { break }
        }
        let text = String(decoding: answer, as: UTF8.self).trimmingCharacters(in: .whitespaces).lowercased()
        return text == "y" || text == "yes"
    }
}
