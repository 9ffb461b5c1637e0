import Foundation

/// Charts drawn on the server as inline SVG: bar sparklines, a success-rate bar, labelled
/// horizontal bars (latency percentiles, status classes).
///
/// Invariant: the SVG holds numbers the charts computed and labels passed through
/// ``escape(_:)``; nothing else, so a page may embed it unescaped. Non-finite or negative
/// values draw as zero.
///
/// ```swift
/// SVGChart.sparkline(totals: [3, 5, 0, 8], failures: [0, 1, 0, 8])   // "<svg …>…</svg>"
/// ```
public enum SVGChart {
    /// Bars of `totals` (grey-green) with each bucket's `failures` in red on top.
    public static func sparkline(totals: [Double], failures: [Double], width: Int = 160, height: Int = 28) -> String {
        let count = max(totals.count, 1)
        let peak = max(totals.map(clean).max() ?? 0, 1)
        let slot = Double(width) / Double(count)
        var bars = ""
        for (index, total) in totals.enumerated() {
            let x = Double(index) * slot
            let h = clean(total) / peak * Double(height)
            let failed = min(clean(failures.indices.contains(index) ? failures[index] : 0), clean(total)) / peak * Double(height)
            guard h > 0 else { continue }
            bars += rect(x: x, y: Double(height) - h + failed, width: max(slot - 1, 1), height: h - failed, fill: "#8ce99a")
            if failed > 0 { bars += rect(x: x, y: Double(height) - h, width: max(slot - 1, 1), height: failed, fill: "#ff8787") }
        }
        return ##"<svg class="chart spark" xmlns="http://www.w3.org/2000/svg" width="\##(width)" height="\##(height)" viewBox="0 0 \##(width) \##(height)" role="img" aria-label="attempts over time">"##
            + ##"<rect x="0" y="\##(height - 1)" width="\##(width)" height="1" fill="#e4e7eb"/>"## + bars + "</svg>"
    }

    /// A bar filled to `rate` (0…1): green from 99 %, amber from 90 %, red below; grey and
    /// "no attempts" when nil.
    public static func rateBar(_ rate: Double?, width: Int = 120) -> String {
        let height = 12
        guard let rate, rate.isFinite else {
            return ##"<svg class="chart rate" xmlns="http://www.w3.org/2000/svg" width="\##(width)" height="\##(height)" role="img" aria-label="no attempts"><rect width="\##(width)" height="\##(height)" rx="3" fill="#e4e7eb"/></svg>"##
        }
        let clamped = min(max(rate, 0), 1)
        let fill = clamped >= 0.99 ? "#40c057" : clamped >= 0.9 ? "#fab005" : "#fa5252"
        return ##"<svg class="chart rate" xmlns="http://www.w3.org/2000/svg" width="\##(width)" height="\##(height)" role="img" aria-label="success rate \##(percent(clamped))">"##
            + ##"<rect width="\##(width)" height="\##(height)" rx="3" fill="#e4e7eb"/>"##
            + ##"<rect width="\##(format(clamped * Double(width)))" height="\##(height)" rx="3" fill="\##(fill)"/></svg>"##
    }

    /// Labelled horizontal bars, scaled to the largest value; `unit` follows each value.
    public static func bars(_ items: [(label: String, value: Double)], unit: String = "", width: Int = 320) -> String {
        let row = 18
        let height = max(items.count, 1) * row
        let peak = max(items.map { clean($0.value) }.max() ?? 0, 1)
        let labelWidth = 60.0
        let room = Double(width) - labelWidth - 70
        var body = ""
        for (index, item) in items.enumerated() {
            let y = Double(index * row)
            let w = clean(item.value) / peak * room
            body += ##"<text x="0" y="\##(format(y + 12))">\##(escape(item.label))</text>"##
            body += rect(x: labelWidth, y: y + 3, width: max(w, 1), height: 11, fill: "#748ffc")
            body += ##"<text x="\##(format(labelWidth + w + 6))" y="\##(format(y + 12))">\##(format(clean(item.value)))\##(escape(unit))</text>"##
        }
        return ##"<svg class="chart bars" xmlns="http://www.w3.org/2000/svg" width="\##(width)" height="\##(height)" viewBox="0 0 \##(width) \##(height)" role="img">"## + body + "</svg>"
    }

    /// `0.987` as "98.7 %".
    public static func percent(_ rate: Double) -> String {
        guard rate.isFinite else { return "–" }
        return String(format: "%.1f %%", rate * 100)
    }

    /// XML text: `&`, `<`, `>`, quotes escaped.
    public static func escape(_ text: String) -> String {
        var out = ""
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }

    private static func rect(x: Double, y: Double, width: Double, height: Double, fill: String) -> String {
        ##"<rect x="\##(format(x))" y="\##(format(y))" width="\##(format(width))" height="\##(format(max(height, 0)))" fill="\##(fill)"/>"##
    }

    private static func clean(_ value: Double) -> Double { value.isFinite && value > 0 ? value : 0 }

    static func format(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        guard abs(value) < 1e12 else { return String(format: "%.0f", value) }
        let rounded = (value * 10).rounded() / 10
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
    }
}
