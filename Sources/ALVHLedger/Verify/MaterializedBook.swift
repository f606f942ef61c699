import ALVHEngine

/// The book a database keeps beside its chain (the `book` row), with the entry it is the book
/// after. The sequence is what makes comparing it with a replay sound while others commit: the
/// row is read before the entries are streamed, so a commit that lands in between moves the
/// chain past it, and the replay is compared with it at its own entry, not at the new head.
public struct MaterializedBook: Sendable, Equatable {
    /// The entry after which this is the book.
    public var sequence: UInt64
    public var book: Book

    public init(sequence: UInt64, book: Book) {
        self.sequence = sequence
        self.book = book
    }
}
