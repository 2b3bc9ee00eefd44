using Newtonsoft.Json;

namespace DotnetDeps.Tasks;

/// <summary>A task body that needs a NuGet package (Newtonsoft.Json) and a referenced project (Shapes).</summary>
public static class Report
{
    public static string Squares(int n) => JsonConvert.SerializeObject(new { n, area = Shapes.Square.Area(n) });
}
