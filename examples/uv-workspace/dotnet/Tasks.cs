using FlyteSharp.Tasks;

namespace UvWorkspace;

/// <summary>
/// The tasks: Python functions in three packages of the workspace (the root package <c>shop</c>, src layout;
/// member <c>pricing</c>, src layout; member <c>reports</c>, flat layout, whose task calls pricing's code) and a C#
/// pipeline that awaits them, so each call is a child action of the run.
/// </summary>
public static class ShopTasks
{
    /// <summary>Sample orders (root package: src/shop/orders.py).</summary>
    public static readonly FlyteTask<int, List<Order>> SampleOrders =
        Envs.Reports.PythonTask<int, List<Order>>("shop.orders:sample_orders");

    /// <summary>One order with its total (member pricing: packages/pricing/src/pricing/discounts.py).</summary>
    public static readonly FlyteTask<Order, Order> PriceOrder =
        Envs.Pricing.PythonTask<Order, Order>("pricing.discounts:price_order");

    /// <summary>Revenue per customer (member reports: packages/reports/reports/summary.py, which imports pricing).</summary>
    public static readonly FlyteTask<List<Order>, Report> MonthlyReport =
        Envs.Reports.PythonTask<List<Order>, Report>("reports.summary:monthly_report");

    /// <summary>Make orders, price the first one on its own, and report on all of them.</summary>
    public static readonly FlyteTask<int, Report> ReportPipeline = Envs.Reports.Task("report_pipeline", async (int n) =>
    {
        var orders = await SampleOrders.InvokeAsync(n);
        var first = await PriceOrder.InvokeAsync(orders[0]);
        var report = await MonthlyReport.InvokeAsync(orders);
        return report with { FirstOrderTotal = first.Total };
    });
}

/// <summary>An order as the Python side writes it.</summary>
/// <param name="Customer">Who ordered.</param>
/// <param name="Quantity">How many items.</param>
/// <param name="UnitPrice">Price per item.</param>
/// <param name="Total">The priced total (set by pricing.discounts:price_order).</param>
public sealed record Order(string Customer, int Quantity, double UnitPrice, double? Total = null);

/// <summary>The monthly report.</summary>
/// <param name="Orders">Number of orders.</param>
/// <param name="Revenue">Total revenue after discounts.</param>
/// <param name="PerCustomer">Revenue per customer.</param>
/// <param name="FirstOrderTotal">The first order's total, priced by its own task.</param>
public sealed record Report(int Orders, double Revenue, Dictionary<string, double> PerCustomer, double? FirstOrderTotal = null);
