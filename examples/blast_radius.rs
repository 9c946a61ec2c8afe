//! Impact analysis on the built-in sample estate: patching a database
//! tonight, then a whole region failing, then the order to bring it back;
//! checkout's single points of failure, and why checkout slowed down only
//! in eu-west-2.
//!
//! Run it with `cargo run --example blast_radius`.

use itam_cmdb::{Estate, Impact, ImpactQuery, Region, ResourceId, sample};

fn main() -> Result<(), itam_cmdb::Error> {
    let estate = sample::estate();
    let cmdb = estate.cmdb();

    // 1. "If we patch this database tonight, what else are we touching?"
    let db = ResourceId::new(sample::PAYMENTS_DB)?;
    println!("1. Patching {db} tonight takes it down. What else are we touching?\n");
    let impact = cmdb.blast_radius(&db)?;
    print_impact(&estate, &impact);

    // 1b. Redundancy: one checkout VM is patched; the pool keeps its quorum.
    let vm = ResourceId::new("vm-chk-euw1-01")?;
    println!("\n1b. Patching {vm} instead: the checkout pool needs one of its two members.\n");
    print_impact(&estate, &cmdb.blast_radius(&vm)?);

    // 2. A whole region fails: every configuration item in eu-west-2 at
    //    once, judged together with the redundancy groups; report what is
    //    in the region or global (business services and pools have no
    //    region).
    let region = Region::new("eu-west-2")?;
    let scenario = ImpactQuery::region_failure(region.clone()).region_and_global(region.clone());
    let impact = cmdb.blast_radius(&scenario)?;
    println!(
        "\n2. {region} fails: {} configuration items at once. In the region or global, this is what goes down or degrades:\n",
        impact.roots().len()
    );
    print_impact(&estate, &impact);

    // 3. The order to bring back what the answer reports (the failed items
    //    and what they took down), in the order of the whole graph.
    println!("\n3. Recovery order for {region} (each wave needs only earlier waves):\n");
    let plan = impact.recovery_order();
    for wave in 0..plan.waves() {
        let steps: Vec<String> = plan
            .steps()
            .iter()
            .filter(|step| step.wave() == wave)
            .map(|step| match step.items() {
                [one] => one.to_string(),
                many => format!(
                    "[{}] (a cycle: together)",
                    many.iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(" + ")
                ),
            })
            .collect();
        println!("   wave {:>2}: {}", wave + 1, steps.join(", "));
    }

    // 4. Root-cause candidates of a failing service, nearest first.
    let checkout = ResourceId::new(sample::CHECKOUT_SERVICE)?;
    println!("\n4. Checkout is failing. What does it depend on, nearest first?\n");
    let needs = cmdb.dependencies(&checkout)?;
    for item in needs.iter() {
        println!(
            "   {:>2} hops  {:<12} {}",
            item.distance(),
            item.state(),
            item.path()
        );
    }

    // 5. Which of those takes checkout down alone? The pool does not help
    //    against what sits under both its members.
    println!("\n5. Checkout's single points of failure, nearest first:\n");
    let points = cmdb.single_points_of_failure(&checkout)?;
    for point in points.iter() {
        let kind = if point.common_mode() {
            "common mode"
        } else {
            "on a chain"
        };
        println!(
            "   {:>2} hops  {:<12} {}",
            point.distance(),
            kind,
            point.id()
        );
        for path in point.paths() {
            println!("             {path}");
        }
    }

    // 6. "Why did checkout slow down only in eu-west-2?" The root-cause
    //    candidates of checkout's eu-west-2 instance that its eu-west-1
    //    instance does not share.
    let west_2 = cmdb.dependencies(&ResourceId::new(sample::CHECKOUT_EU_WEST_2)?)?;
    let west_1 = cmdb.dependencies(&ResourceId::new(sample::CHECKOUT_EU_WEST_1)?)?;
    println!("\n6. Only under the eu-west-2 checkout, not the eu-west-1 one:\n");
    for item in west_2.except(&west_1) {
        println!("   {:>2} hops  {}", item.distance(), item.path());
    }

    println!("\nThe cycles of the estate: {:?}", cmdb.cycles());
    println!("\nThe first blast radius as Mermaid (paste into any Mermaid viewer):\n");
    print!("{}", cmdb.blast_radius(&db)?.to_mermaid());
    Ok(())
}

fn print_impact(estate: &Estate, impact: &Impact<'_>) {
    let roots: Vec<&str> = impact.roots().map(ResourceId::as_str).collect();
    for item in impact
        .iter()
        .filter(|item| !roots.contains(&item.id().as_str()))
    {
        let owner = estate
            .ci(item.id())
            .and_then(|ci| ci.owner())
            .map_or(String::new(), |owner| format!("  (tell: {owner})"));
        println!(
            "   {:<9} {:>2} hops  {}{owner}",
            item.state(),
            item.distance(),
            item.id()
        );
        if item.distance() > 0 {
            println!("             because {}", item.path());
        }
        if let Some(group) = item.group() {
            println!("             {group}");
        }
    }
    let (down, degraded) = (impact.down().count(), impact.degraded().count());
    println!("   = {down} down, {degraded} degraded");
}
