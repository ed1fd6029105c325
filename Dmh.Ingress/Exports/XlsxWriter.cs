using System.Globalization;
using System.IO.Compression;
using System.Text;

namespace Dmh.Ingress.Exports;

/// <summary>A column of an export: its header and width in characters.</summary>
public sealed record XlsxColumn(string Header, double Width = 14);

/// <summary>A cell written as text even when it looks like a number (ids, phones, trade numbers: no 4.2E+27 in Excel).</summary>
public readonly record struct XlsxText(string Value);

/// <summary>
/// One-sheet .xlsx (Office Open XML) writer for the admin exports: a bold, frozen header row with a filter,
/// strings inline (never evaluated as formulas, so no CSV-style injection), <see cref="long"/>/<see cref="int"/>
/// as numbers, <see cref="decimal"/> as money (0.00), <see cref="DateTime"/> (already in the display zone)
/// as real date-times (yyyy-mm-dd hh:mm:ss), <see cref="XlsxText"/> as text cells.
/// Rows are deflated into memory as they come (a compressed sheet, not the row objects) and copied out at the end:
/// ASP.NET Core's response body allows no synchronous writes, which ZipArchive makes.
/// </summary>
public sealed class XlsxWriter : IDisposable
{
    public const string ContentType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

    private const int HeaderStyle = 1, MoneyStyle = 2, TimeStyle = 3, TextStyle = 4;

    private readonly MemoryStream _buffer = new();
    private readonly ZipArchive _zip;
    private readonly StreamWriter _sheet;
    private readonly int _columns;
    private int _row;

    public XlsxWriter(string sheetName, IReadOnlyList<XlsxColumn> columns)
    {
        _columns = columns.Count;
        _zip = new ZipArchive(_buffer, ZipArchiveMode.Create, leaveOpen: true);
        Part("[Content_Types].xml", """
            <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
            <Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>
            """);
        Part("_rels/.rels", """
            <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
            <Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>
            """);
        Part("xl/_rels/workbook.xml.rels", """
            <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
            <Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>
            """);
        Part("xl/workbook.xml", $"""
            <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
            <workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="{Escape(SheetName(sheetName))}" sheetId="1" r:id="rId1"/></sheets></workbook>
            """);
        Part("xl/styles.xml", """
            <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
            <styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd hh:mm:ss"/></numFmts><fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts><fills count="3"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill><fill><patternFill patternType="solid"><fgColor rgb="FFF2F3F5"/><bgColor indexed="64"/></patternFill></fill></fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="5"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="49" fontId="1" fillId="2" borderId="0" xfId="0" applyFont="1" applyFill="1" applyNumberFormat="1"/><xf numFmtId="2" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/><xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/><xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>
            """);

        _sheet = new StreamWriter(_zip.CreateEntry("xl/worksheets/sheet1.xml", CompressionLevel.Fastest).Open(), new UTF8Encoding(false), 64 * 1024);
        _sheet.Write("""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>""");
        _sheet.Write("""<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">""");
        _sheet.Write("""<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>""");
        _sheet.Write("<cols>");
        for (var i = 0; i < columns.Count; i++)
        {
            _sheet.Write(string.Create(CultureInfo.InvariantCulture, $"""<col min="{i + 1}" max="{i + 1}" width="{columns[i].Width}" customWidth="1"/>"""));
        }

        _sheet.Write("</cols><sheetData>");
        WriteRow(columns.Select(c => (object?)c.Header).ToList(), HeaderStyle);
    }

    /// <summary>Adds one row; a cell is null (empty), string, <see cref="XlsxText"/>, long, int, decimal or DateTime.</summary>
    public void AddRow(IReadOnlyList<object?> cells) => WriteRow(cells, null);

    /// <summary>Closes the workbook and copies it to <paramref name="output"/>.</summary>
    public async Task SaveAsync(Stream output, CancellationToken ct)
    {
        _sheet.Write("</sheetData>");
        _sheet.Write($"""<autoFilter ref="A1:{ColumnName(Math.Max(_columns, 1) - 1)}{Math.Max(_row, 1)}"/>""");
        _sheet.Write("</worksheet>");
        _sheet.Dispose();
        _zip.Dispose();
        _buffer.Position = 0;
        await _buffer.CopyToAsync(output, ct);
    }

    public void Dispose()
    {
        _sheet.Dispose();
        _zip.Dispose();
        _buffer.Dispose();
    }

    private void WriteRow(IReadOnlyList<object?> cells, int? style)
    {
        _row++;
        var r = _row.ToString(CultureInfo.InvariantCulture);
        _sheet.Write($"<row r=\"{r}\">");
        for (var i = 0; i < cells.Count; i++)
        {
            var at = ColumnName(i) + r;
            switch (cells[i])
            {
                case null:
                    break;
                case string s when s.Length == 0:
                    break;
                case string s:
                    InlineString(at, s, style ?? 0);
                    break;
                case XlsxText t when !string.IsNullOrEmpty(t.Value):
                    InlineString(at, t.Value, style ?? TextStyle);
                    break;
                case XlsxText:
                    break;
                case long n:
                    Number(at, n.ToString(CultureInfo.InvariantCulture), style ?? 0);
                    break;
                case int n:
                    Number(at, n.ToString(CultureInfo.InvariantCulture), style ?? 0);
                    break;
                case decimal d:
                    Number(at, d.ToString(CultureInfo.InvariantCulture), style ?? MoneyStyle);
                    break;
                case DateTime t:
                    // Excel's serial date: days since 1899-12-30 (the 1900 leap-year bug is before any date we write).
                    var seconds = (long)(t - new DateTime(1899, 12, 30)).TotalSeconds;
                    Number(at, (seconds / 86400m).ToString("0.##########", CultureInfo.InvariantCulture), style ?? TimeStyle);
                    break;
                case var other:
                    InlineString(at, Convert.ToString(other, CultureInfo.InvariantCulture) ?? "", style ?? 0);
                    break;
            }
        }

        _sheet.Write("</row>");
    }

    private void InlineString(string at, string value, int style) =>
        _sheet.Write($"<c r=\"{at}\"{Style(style)} t=\"inlineStr\"><is><t xml:space=\"preserve\">{Escape(value)}</t></is></c>");

    private void Number(string at, string value, int style) => _sheet.Write($"<c r=\"{at}\"{Style(style)}><v>{value}</v></c>");

    private static string Style(int style) => style == 0 ? "" : string.Create(CultureInfo.InvariantCulture, $" s=\"{style}\"");

    private void Part(string name, string xml)
    {
        using var writer = new StreamWriter(_zip.CreateEntry(name, CompressionLevel.Fastest).Open(), new UTF8Encoding(false));
        writer.Write(xml);
    }

    /// <summary>A, B, …, Z, AA, AB, … for a zero-based column.</summary>
    public static string ColumnName(int index)
    {
        var name = "";
        for (var n = index + 1; n > 0; n = (n - 1) / 26)
        {
            name = (char)('A' + ((n - 1) % 26)) + name;
        }

        return name;
    }

    /// <summary>XML-escaped, without the control characters XML 1.0 cannot carry (a form answer may hold them).</summary>
    private static string Escape(string s)
    {
        var b = new StringBuilder(s.Length + 16);
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            switch (c)
            {
                case '&': b.Append("&amp;"); break;
                case '<': b.Append("&lt;"); break;
                case '>': b.Append("&gt;"); break;
                case '"': b.Append("&quot;"); break;
                case '\t' or '\n' or '\r': b.Append(c); break;
                case < ' ' or '\uFFFE' or '\uFFFF': break;
                default:
                    if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
                    {
                        b.Append(c).Append(s[++i]);
                    }
                    else if (!char.IsSurrogate(c))
                    {
                        b.Append(c);
                    }

                    break;
            }
        }

        return b.ToString();
    }

    /// <summary>Excel's sheet-name rules: at most 31 characters, none of : \ / ? * [ ].</summary>
    private static string SheetName(string name)
    {
        var clean = new string(name.Where(c => c is not (':' or '\\' or '/' or '?' or '*' or '[' or ']')).ToArray()).Trim();
        return clean.Length == 0 ? "Sheet1" : clean.Length > 31 ? clean[..31] : clean;
    }
}
