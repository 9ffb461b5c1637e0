import Foundation

/// A plain text table for the CLI's lists: a header row, columns padded to their widest
/// cell (counted in characters), two spaces between them, the last column unpadded.
///
/// ```swift
/// print(Table.render(header: ["ID", "STATE"], rows: [["ep_1", "enabled"]]))
/// ```
public enum Table {
    public static func render(header: [String], rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { i in all.map { $0[i].count }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { i, cell in i == row.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
