use k8s_openapi::api::core::v1::*;
fn main() {
    println!("Pod {}", std::mem::size_of::<Pod>());
    println!("PodSpec {}", std::mem::size_of::<PodSpec>());
    println!("PodStatus {}", std::mem::size_of::<PodStatus>());
    println!(
        "ObjectMeta {}",
        std::mem::size_of::<k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta>()
    );
    println!("Container {}", std::mem::size_of::<Container>());
    println!("ContainerStatus {}", std::mem::size_of::<ContainerStatus>());
    println!("Volume {}", std::mem::size_of::<Volume>());
    println!("VolumeMount {}", std::mem::size_of::<VolumeMount>());
    println!("PodCondition {}", std::mem::size_of::<PodCondition>());
    println!("Toleration {}", std::mem::size_of::<Toleration>());
    println!(
        "ProjectedVolumeSource {}",
        std::mem::size_of::<VolumeProjection>()
    );
}
