using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using YamlDotNet.Serialization;

namespace Dmh.IntegrationTests.Deployment;

/// <summary>deploy/monitoring: the alert rules load in Prometheus, and they and the dashboard query only metrics the code exports.</summary>
public sealed partial class MonitoringTests
{
    private static readonly string Rules = Path.Combine(RepositoryFiles.Root, "deploy", "monitoring", "dmh-alerts.yml");
    private static readonly string Dashboard = Path.Combine(RepositoryFiles.Root, "deploy", "monitoring", "grafana-dmh.json");

    // Prometheus's own series (not from DMH's code).
    private static readonly HashSet<string> PrometheusSeries = ["up"];

    [Fact]
    public void Promtool_accepts_the_alert_rules()
    {
        var (code, output) = Run("promtool", "check", "rules", Rules);

        Assert.True(code == 0, output);
        Assert.Contains("SUCCESS", output, StringComparison.Ordinal);
    }

    [Fact]
    public void The_rules_alert_on_everything_the_guide_promises()
    {
        var alerts = AlertExpressions().Keys.ToHashSet();

        Assert.Superset(
            new HashSet<string>
            {
                "DmhStreamLagGrowing", "DmhStreamPendingGrowing", "DmhDeadLetters", "DmhSettlementSlow", "DmhSyncFailureRatio",
                "DmhSyncOldestPending", "DmhNotifyClientErrors", "DmhNotifyServerErrors", "DmhSyncTargetDown",
                "DmhReconciliationFoundMissedPayments",
            },
            alerts);
    }

    [Fact]
    public void Every_metric_and_label_value_the_rules_query_is_exported_by_the_code()
    {
        foreach (var (alert, expression) in AlertExpressions())
        {
            AssertExported(alert, expression);
        }
    }

    [Fact]
    public void Every_metric_the_dashboard_queries_is_exported_by_the_code()
    {
        using var dashboard = JsonDocument.Parse(File.ReadAllText(Dashboard));
        var panels = dashboard.RootElement.GetProperty("panels").EnumerateArray().ToList();
        Assert.NotEmpty(panels);
        foreach (var panel in panels)
        {
            var targets = panel.GetProperty("targets").EnumerateArray().ToList();
            Assert.NotEmpty(targets);
            foreach (var target in targets)
            {
                AssertExported(panel.GetProperty("title").GetString()!, target.GetProperty("expr").GetString()!);
            }
        }
    }

    [Fact]
    public void The_check_finds_a_metric_the_code_does_not_export()
    {
        Assert.ThrowsAny<Exception>(() => AssertExported("typo", "rate(dmh_stream_mesages_total[5m])"));
        Assert.ThrowsAny<Exception>(() => AssertExported("typo", "dmh_stream_messages_total{outcome=\"deadlettered\"}"));
    }

    private static void AssertExported(string where, string expression)
    {
        var code = CodeMetrics.Value;
        var metrics = MetricName().Matches(expression).Select(m => m.Value).Where(n => !PromqlWords.Contains(n)).ToList();
        Assert.NotEmpty(metrics);
        foreach (var metric in metrics)
        {
            var name = HistogramSeries().Replace(metric, "");
            Assert.True(PrometheusSeries.Contains(name) || code.Names.Contains(name) || code.Names.Contains(metric),
                $"{where}: {metric} is not a metric DMH exports ({string.Join(", ", code.Names.Order(StringComparer.Ordinal))})");
        }

        foreach (Match m in OutcomeMatcher().Matches(expression))
        {
            foreach (var value in m.Groups[1].Value.Split('|'))
            {
                Assert.True(code.Literals.Contains(value), $"{where}: no code sets outcome \"{value}\"");
            }
        }
    }

    private static readonly HashSet<string> PromqlWords =
    [
        "sum", "by", "rate", "increase", "delta", "deriv", "histogram_quantile", "clamp_min", "and", "or", "unless", "le",
        "outcome", "stream", "group", "table", "job", "instance",
    ];

    private static readonly Lazy<(HashSet<string> Names, HashSet<string> Literals)> CodeMetrics = new(() =>
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        var literals = new HashSet<string>(StringComparer.Ordinal);
        // The deployables' sources (Dmh.*/), not the tests.
        foreach (var file in Directory.GetDirectories(RepositoryFiles.Root, "Dmh.*")
                     .SelectMany(d => Directory.EnumerateFiles(d, "*.cs", SearchOption.AllDirectories))
                     .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)))
        {
            var text = File.ReadAllText(file);
            names.UnionWith(CreatedMetric().Matches(text).Select(m => m.Groups[1].Value));
            literals.UnionWith(StringLiteral().Matches(text).Select(m => m.Groups[1].Value));
        }

        return (names, literals);
    });

    private static Dictionary<string, string> AlertExpressions()
    {
        var rules = new DeserializerBuilder().Build().Deserialize<Dictionary<string, List<Dictionary<string, object>>>>(File.ReadAllText(Rules));
        return rules["groups"]
            .SelectMany(g => (List<object>)g["rules"])
            .Cast<Dictionary<object, object>>()
            .ToDictionary(r => (string)r["alert"], r => (string)r["expr"], StringComparer.Ordinal);
    }

    private static (int Code, string Output) Run(string file, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output + error.Result);
    }

    [GeneratedRegex(@"Metrics\.Create\w+\(\s*""([a-z_:][a-z0-9_:]*)""")]
    private static partial Regex CreatedMetric();

    [GeneratedRegex(@"""([a-z_-]+)""")]
    private static partial Regex StringLiteral();

    // Metric names in PromQL: identifiers not inside quotes, braces or a [range]; label names are filtered by PromqlWords.
    [GeneratedRegex(@"(?<![""{=~\w$|.-])\b[a-z_][a-z0-9_]*\b(?![""(\w-])")]
    private static partial Regex MetricName();

    [GeneratedRegex(@"_(bucket|count|sum)$")]
    private static partial Regex HistogramSeries();

    [GeneratedRegex(@"outcome=~?""([^""]+)""")]
    private static partial Regex OutcomeMatcher();
}
