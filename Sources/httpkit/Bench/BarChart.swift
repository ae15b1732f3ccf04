import Foundation

/// Horizontal bars in the terminal: one line per row, one bar per metric, each metric scaled to its own
/// largest value in the group, drawn with Unicode eighth blocks (a bar can end at 1/8 of a cell).
enum BarChart {
    struct Metric {
        let title: String
        /// How a value is printed after its bar.
        let format: (Double) -> String
    }

    struct Row {
        let label: String
        let values: [Double]
        /// Printed after the bars (latency, a marker).
        var note = ""
    }

    /// The bar for `value` out of `maximum`, exactly `width` characters (padded with spaces).
    static func bar(_ value: Double, of maximum: Double, width: Int) -> String {
        guard width > 0 else { return "" }
        guard maximum > 0, value > 0, value.isFinite else { return String(repeating: " ", count: width) }
        let eighths = Int((min(value / maximum, 1) * Double(width * 8)).rounded())
        let partial = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"][eighths % 8]
        // A value above zero always shows at least a sliver.
        var text = String(repeating: "█", count: eighths / 8) + (eighths == 0 ? "▏" : partial)
        text += String(repeating: " ", count: max(0, width - text.count))
        return text
    }

    /// One group: the heading on its own line, the metric titles above their bars, then a line per row.
    static func render(heading: String, metrics: [Metric], rows: [Row], barWidth: Int = 24) -> [String] {
        let labelWidth = max(rows.map(\.label.count).max() ?? 0, 1)
        let formatted = rows.map { row in metrics.indices.map { index in
            index < row.values.count ? metrics[index].format(row.values[index]) : "" } }
        let valueWidths = metrics.indices.map { index in formatted.map { $0[index].count }.max() ?? 0 }
        let maxima = metrics.indices.map { index in rows.compactMap { index < $0.values.count ? $0.values[index] : nil }.max() ?? 0 }
        let columns = metrics.indices.map { max(barWidth + 1 + valueWidths[$0], metrics[$0].title.count) }
        var lines = [heading]
        var header = String(repeating: " ", count: 2 + labelWidth)
        for (index, metric) in metrics.enumerated() {
            header += "  " + metric.title.padding(toLength: columns[index], withPad: " ", startingAt: 0)
        }
        lines.append(header.trimmingTrailingSpaces())
        for (rowIndex, row) in rows.enumerated() {
            var line = "  " + row.label.padding(toLength: labelWidth, withPad: " ", startingAt: 0)
            for index in metrics.indices {
                let value = index < row.values.count ? row.values[index] : 0
                let text = formatted[rowIndex][index]
                let cell = bar(value, of: maxima[index], width: barWidth) + " "
                    + String(repeating: " ", count: valueWidths[index] - text.count) + text
                line += "  " + cell.padding(toLength: columns[index], withPad: " ", startingAt: 0)
            }
            if !row.note.isEmpty { line += "  " + row.note }
            lines.append(line.trimmingTrailingSpaces())
        }
        return lines
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}
