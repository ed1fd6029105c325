using System.Text.RegularExpressions;
using Dmh.Ingress.Http;
using Microsoft.AspNetCore.Mvc;

namespace Dmh.UnitTests.Ingress;

/// <summary>
/// The endpoint and error style of Dmh.Ingress (STYLE.md, issue 16), checked on its sources: problems are
/// built only by Http/Problems.cs, handlers return typed results, and docs/API.md lists every problem type.
/// </summary>
public sealed partial class EndpointStyleTests
{
    private static readonly string Root = FindRepositoryRoot();

    private static readonly string[] ProblemBuilders =
        ["TypedResults.Problem(", "Results.Problem(", "ValidationProblem(", "Results.BadRequest(", "TypedResults.BadRequest("];

    [Fact]
    public void Problems_are_built_only_by_the_Problems_helper()
    {
        var offences = (
            from file in IngressSources()
            where !Relative(file).Equals("Dmh.Ingress/Http/Problems.cs", StringComparison.Ordinal)
            from line in File.ReadLines(file).Select((text, index) => (Text: text, Number: index + 1))
            where ProblemBuilders.Any(b => line.Text.Contains(b, StringComparison.Ordinal))
            select $"{Relative(file)}:{line.Number}: {line.Text.Trim()}").ToList();
        Assert.True(offences.Count == 0, "Build problems with Dmh.Ingress.Http.Problems:" + Environment.NewLine + string.Join(Environment.NewLine, offences));
    }

    [Fact]
    public void Endpoint_handlers_return_typed_results_not_IResult()
    {
        var offences = (
            from file in IngressSources()
            from Match m in IResultMethod().Matches(File.ReadAllText(file))
            select $"{Relative(file)}: {m.Value.Trim()}").ToList();
        Assert.True(offences.Count == 0, "Return a Results<…> union of TypedResults, not IResult:" + Environment.NewLine + string.Join(Environment.NewLine, offences));
    }

    [Fact]
    public void Every_problem_type_is_listed_in_the_API_document()
    {
        var api = File.ReadAllText(Path.Combine(Root, "docs", "API.md"));
        var slugs = IngressSources().SelectMany(file =>
        {
            var text = File.ReadAllText(file);
            return SlugArgument().Matches(text).Concat(SlugForArm().Matches(text)).Select(m => m.Groups["slug"].Value);
        }).Distinct().Order().ToList();

        Assert.Contains("not-found", slugs);
        Assert.All(slugs, slug => Assert.True(api.Contains($"`{slug}`", StringComparison.Ordinal), $"docs/API.md does not list the problem type `{slug}`"));
    }

    [Fact]
    public void A_problem_without_a_DMH_type_gets_the_one_of_its_status()
    {
        var framework = new ProblemDetails { Status = 500, Type = "https://tools.ietf.org/html/rfc9110#section-15.6.1" };
        Problems.WithDmhType(framework);
        Assert.Equal(Problems.TypeBase + "server-error", framework.Type);

        var untyped = new ProblemDetails { Status = 405 };
        Problems.WithDmhType(untyped);
        Assert.Equal(Problems.TypeBase + "method-not-allowed", untyped.Type);

        var own = new ProblemDetails { Status = 409, Type = Problems.TypeBase + "already-registered" };
        Problems.WithDmhType(own);
        Assert.Equal(Problems.TypeBase + "already-registered", own.Type);
    }

    private static IEnumerable<string> IngressSources()
    {
        var project = Path.Combine(Root, "Dmh.Ingress");
        var sources = Directory.EnumerateFiles(project, "*.cs", SearchOption.AllDirectories)
            .Where(f => !Relative(f).Split('/').Any(part => part is "bin" or "obj"))
            .ToList();
        Assert.NotEmpty(sources);
        return sources;
    }

    private static string Relative(string path) => Path.GetRelativePath(Root, path).Replace('\\', '/');

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Dmh.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Dmh.sln not found above " + AppContext.BaseDirectory);
    }

    /// <summary>A method declared to return IResult, Task&lt;IResult&gt; or ValueTask&lt;IResult&gt;.</summary>
    [GeneratedRegex(@"^[ \t]*(?:(?:public|private|internal|protected|static|async)[ \t]+)+(?:(?:Value)?Task<IResult>|IResult)[ \t]+\w+[ \t]*[(<]", RegexOptions.Multiline)]
    private static partial Regex IResultMethod();

    /// <summary>The slug argument of <c>Problems.Of(status, "slug", …)</c> (and <c>Of(</c> inside Problems.cs).</summary>
    [GeneratedRegex(@"\bOf\(\s*[\w.]+\s*,\s*""(?<slug>[a-z0-9-]+)""")]
    private static partial Regex SlugArgument();

    /// <summary>The slugs of <c>Problems.SlugFor</c>: <c>StatusCodes.Status… =&gt; "slug",</c>.</summary>
    [GeneratedRegex(@"StatusCodes\.Status\w+\s*=>\s*""(?<slug>[a-z0-9-]+)""")]
    private static partial Regex SlugForArm();
}
